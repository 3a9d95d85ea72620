/*
 * server/station/station.h — the station's identity and clock for receivers that store
 * (SPEC.md, "Receivers that store"): its Ed25519 key pair and the open routes
 *   GET /api/v1/station → {"name","public_key"}   (base64 of the 32-byte public key)
 *   GET /api/v1/time    → {"received_us","sent_us"} (wall clock, µs since the epoch)
 *
 * The key pair is made at the first start in <data_dir>/station.key (mode 0600, written whole
 * and synced before it is used: a power cut leaves the old file or the new one, never half of
 * one) and loaded at every start after. The private key never leaves this module: it is not
 * served, not logged, and the memory holding it is locked and wiped when the module is freed.
 * A key file that others may read, or that is not a key, stops the start with a clear message.
 *
 * Threads: the loop thread only.
 */
#ifndef LC_SERVER_STATION_STATION_H
#define LC_SERVER_STATION_STATION_H

#include <stddef.h>

#include "common/err.h"

struct lc_router;
struct lc_station;

/* The public key, base64 (standard alphabet, padded): 44 characters and a NUL. */
#define LC_STATION_PUBLIC_B64 45
/* A signature, base64: 88 characters and a NUL. */
#define LC_STATION_SIGNATURE_B64 89

/* Loads <data_dir>/station.key, or makes it when there is none. 0 or a negative errno, with a
 * message in err. */
int lc_station_open(struct lc_station **out, const char *data_dir, const char *name,
                    struct lc_err *err);
void lc_station_free(struct lc_station *st);

const char *lc_station_public_b64(const struct lc_station *st);

/* The detached Ed25519 signature of data[0..len), base64, into sig. */
void lc_station_sign(const struct lc_station *st, const void *data, size_t len,
                     char sig[LC_STATION_SIGNATURE_B64]);

int lc_station_routes(struct lc_station *st, struct lc_router *r);

#endif
