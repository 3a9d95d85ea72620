/*
 * common/log.h — the server's log lines, on stderr:
 *   2026-11-24T06:00:01+07:00 loacast[bulletins] post_bulletin: bulletin 12: cannot queue ...
 * Under systemd, when stderr is the journal, a line starts with its syslog priority instead of
 * the time ("<4>loacast[stream] …": journald stores it as the entry's PRIORITY, so
 * `journalctl -p warning` finds the warnings).
 * Each file defines LC_LOG_MODULE (its tag) before including this header. The level is tested
 * before anything is formatted. Thread-safe (one fprintf per line).
 */
#ifndef LC_SERVER_LOG_H
#define LC_SERVER_LOG_H

#include <stdbool.h>

enum lc_log_level { LC_LOG_ERR, LC_LOG_WARN, LC_LOG_INFO, LC_LOG_DEBUG };

/* Looks whether stderr is systemd's journal (JOURNAL_STREAM); call once before threads start. */
void lc_log_init(void);
bool lc_log_journal(void);

extern enum lc_log_level lc_log_threshold;

void lc_log_write(enum lc_log_level level, const char *module, const char *func, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

#define lc_log(level, ...)                                                                     \
    do {                                                                                       \
        if ((level) <= lc_log_threshold)                                                       \
            lc_log_write((level), LC_LOG_MODULE, __func__, __VA_ARGS__);                       \
    } while (0)

#endif
