/*
 * server/store/migrations.c — the database schema, as an ordered list of migrations (see store.h).
 *
 * Append only: a migration that has been released is never edited; changes go in a new one.
 * Times are Unix seconds (UTC) in INTEGER columns; the API formats them in the station's zone.
 * Secrets (session tokens, receiver tokens) are stored only as SHA-256 hex digests; passwords
 * only as Argon2id strings.
 */
#include "server/store/store.h"

const struct lc_migration lc_migrations[] = {
    {1, "accounts, audit, registry, bulletins",
     "CREATE TABLE users ("
     "  id INTEGER PRIMARY KEY,"
     "  username TEXT NOT NULL UNIQUE,"
     "  role TEXT NOT NULL CHECK (role IN ('admin','editor','approver','operator')),"
     "  pwhash TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE TABLE sessions ("
     "  token_hash TEXT PRIMARY KEY,"
     "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
     "  created_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL,"
     "  address TEXT);"
     "CREATE INDEX sessions_user ON sessions(user_id);"
     "CREATE TABLE audit ("
     "  id INTEGER PRIMARY KEY,"
     "  at INTEGER NOT NULL,"
     "  actor TEXT,"
     "  action TEXT NOT NULL,"
     "  target TEXT,"
     "  detail TEXT,"
     "  address TEXT);"
     "CREATE INDEX audit_action ON audit(action, id);"
     "CREATE TABLE communes ("
     "  id TEXT PRIMARY KEY,"
     "  name TEXT NOT NULL,"
     "  population INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0),"
     "  created_at INTEGER NOT NULL);"
     "CREATE TABLE clusters ("
     "  id TEXT PRIMARY KEY,"
     "  commune TEXT NOT NULL REFERENCES communes(id),"
     "  name TEXT NOT NULL,"
     "  speakers INTEGER NOT NULL DEFAULT 1 CHECK (speakers >= 0),"
     "  population INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0),"
     "  lat REAL,"
     "  lon REAL,"
     "  token_hash TEXT NOT NULL UNIQUE,"
     "  token_issued_at INTEGER NOT NULL,"
     "  last_seen INTEGER,"
     "  created_at INTEGER NOT NULL);"
     "CREATE INDEX clusters_commune ON clusters(commune);"
     "CREATE TABLE bulletins ("
     "  id INTEGER PRIMARY KEY,"
     "  title TEXT NOT NULL,"
     "  kind TEXT NOT NULL CHECK (kind IN ('text','audio')),"
     "  text TEXT,"
     "  voice TEXT NOT NULL,"
     "  rate INTEGER NOT NULL,"
     "  priority TEXT NOT NULL CHECK (priority IN ('normal','high','emergency')),"
     "  repeat INTEGER NOT NULL DEFAULT 1,"
     "  aired INTEGER NOT NULL DEFAULT 0,"
     "  all_communes INTEGER NOT NULL DEFAULT 0,"
     "  not_before INTEGER,"
     "  expires INTEGER,"
     "  status TEXT NOT NULL CHECK (status IN ('draft','rendering','pending','approved','done',"
     "    'failed','rejected','withdrawn','expired')),"
     "  error TEXT,"
     "  reason TEXT,"
     "  audio_hash TEXT,"
     "  audio_bytes INTEGER,"
     "  duration_s REAL,"
     "  created_by TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  approved_by TEXT,"
     "  approved_at INTEGER,"
     "  decided_by TEXT,"
     "  decided_at INTEGER);"
     "CREATE INDEX bulletins_status ON bulletins(status, id);"
     "CREATE TABLE bulletin_communes ("
     "  bulletin INTEGER NOT NULL REFERENCES bulletins(id) ON DELETE CASCADE,"
     "  commune TEXT NOT NULL REFERENCES communes(id),"
     "  PRIMARY KEY (bulletin, commune)) WITHOUT ROWID;"
     "CREATE INDEX bulletin_communes_commune ON bulletin_communes(commune);"},
    {2, "receiver status reports",
     "ALTER TABLE clusters ADD COLUMN status TEXT;"
     "ALTER TABLE clusters ADD COLUMN status_at INTEGER;"},
    /* Issue 5 (schedules/, server/scheduler/scheduler.c): slots, dated broadcast sessions with their frozen
     * programmes, airings per bulletin and commune, approval order. */
    {10, "slots, broadcast sessions, airings",
     /* Idempotent (IF NOT EXISTS, OR IGNORE): tests/server/store_test.py runs the migrations
      * after 1 again on a database that has them. */
     "CREATE TABLE IF NOT EXISTS slots ("
     "  commune TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,"
     "  position INTEGER NOT NULL,"
     "  start_s INTEGER NOT NULL CHECK (start_s BETWEEN 0 AND 86399),"
     "  minutes INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 240),"
     "  days INTEGER NOT NULL DEFAULT 0 CHECK (days BETWEEN 0 AND 127),"
     "  PRIMARY KEY (commune, position)) WITHOUT ROWID;"
     /* New communes get the default two slots (SPEC: 06:00 and 17:00, 60 minutes). */
     "CREATE TRIGGER IF NOT EXISTS communes_default_slots AFTER INSERT ON communes BEGIN"
     "  INSERT INTO slots (commune, position, start_s, minutes) VALUES"
     "    (new.id, 0, 21600, 60), (new.id, 1, 61200, 60);"
     "END;"
     /* Existing communes without slots get them too (17:00 first: a commune with slots but
      * none at position 0 can only come from that first statement). */
     "INSERT OR IGNORE INTO slots (commune, position, start_s, minutes)"
     "  SELECT id, 1, 61200, 60 FROM communes"
     "  WHERE NOT EXISTS (SELECT 1 FROM slots s WHERE s.commune = communes.id);"
     "INSERT OR IGNORE INTO slots (commune, position, start_s, minutes)"
     "  SELECT id, 0, 21600, 60 FROM communes"
     "  WHERE NOT EXISTS (SELECT 1 FROM slots s WHERE s.commune = communes.id AND s.position = 0);"
     /* One row per dated session that was created (ad hoc, emergency) or reached its hold
      * window (slot). status: scheduled -> on_air -> done; interrupted (the server was down at
      * its end), missed (never on air). Times: Unix s; *_ms: Unix ms. host: the session an
      * emergency interrupted. programme: the frozen programme (JSON). */
     "CREATE TABLE IF NOT EXISTS broadcasts ("
     "  id INTEGER PRIMARY KEY,"
     "  commune TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,"
     "  kind TEXT NOT NULL CHECK (kind IN ('slot','adhoc','emergency')),"
     "  start_at INTEGER NOT NULL,"
     "  end_at INTEGER NOT NULL CHECK (end_at >= start_at),"
     "  status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN"
     "    ('scheduled','on_air','done','interrupted','missed')),"
     "  programme TEXT,"
     "  frozen_at INTEGER,"
     "  aired_at_ms INTEGER,"
     "  ended_at_ms INTEGER,"
     "  host INTEGER,"
     "  created_by TEXT,"
     "  created_at INTEGER NOT NULL);"
     "CREATE UNIQUE INDEX IF NOT EXISTS broadcasts_slot ON broadcasts(commune, start_at)"
     "  WHERE kind = 'slot';"
     "CREATE INDEX IF NOT EXISTS broadcasts_commune ON broadcasts(commune, start_at);"
     "CREATE INDEX IF NOT EXISTS broadcasts_status ON broadcasts(status);"
     /* Sessions aired per bulletin and commune: `repeat` counts per commune. */
     "CREATE TABLE IF NOT EXISTS bulletin_airings ("
     "  bulletin INTEGER NOT NULL REFERENCES bulletins(id) ON DELETE CASCADE,"
     "  commune TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,"
     "  aired INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY (bulletin, commune)) WITHOUT ROWID;"
     /* Approval order, finer than approved_at's seconds: seq grows with each approval. */
     "CREATE TABLE IF NOT EXISTS approval_order ("
     "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  bulletin INTEGER NOT NULL UNIQUE REFERENCES bulletins(id) ON DELETE CASCADE);"
     "INSERT OR IGNORE INTO approval_order (bulletin)"
     "  SELECT id FROM bulletins WHERE approved_at IS NOT NULL ORDER BY approved_at, id;"
     "CREATE TRIGGER IF NOT EXISTS bulletins_approval_order AFTER UPDATE OF status ON bulletins"
     "  WHEN new.status = 'approved' AND old.status <> 'approved' BEGIN"
     "  INSERT OR REPLACE INTO approval_order (bulletin) VALUES (new.id);"
     "END;"},
    /* Issue 6 (server/stream*.c, server/accounting/delivery.c): what each cluster received of each
     * broadcast session, from completed writes; columns in server/accounting/delivery.h. Written in batches
     * (≤ 1 s); the coverage issue reads it. */
    {20, "deliveries",
     "CREATE TABLE IF NOT EXISTS deliveries ("
     "  session INTEGER NOT NULL,"
     "  cluster TEXT NOT NULL,"
     "  commune TEXT NOT NULL,"
     "  session_start INTEGER NOT NULL,"
     "  session_end INTEGER NOT NULL,"
     "  connected_at INTEGER,"
     "  disconnected_at INTEGER,"
     "  audio_s REAL NOT NULL DEFAULT 0,"
     "  programme_s REAL NOT NULL DEFAULT 0,"
     "  bytes INTEGER NOT NULL DEFAULT 0,"
     "  reconnections INTEGER NOT NULL DEFAULT 0,"
     "  reached INTEGER NOT NULL DEFAULT 0,"
     "  bulletins_whole TEXT NOT NULL DEFAULT '[]',"
     "  updated_at INTEGER NOT NULL,"
     "  PRIMARY KEY (session, cluster)) WITHOUT ROWID;"
     "CREATE INDEX IF NOT EXISTS deliveries_commune ON deliveries(commune, session_start);"
     "CREATE INDEX IF NOT EXISTS deliveries_cluster ON deliveries(cluster, session_start);"},
    /* Issue 7 (server/accounting/coverage.c, server/accounting/retention.c): reports over a date range of all communes
     * and the retention pruning read these ranges. delivery_bulletins is deliveries.bulletins_whole
     * as rows, kept by triggers, so per-bulletin coverage is a GROUP BY over integers instead of
     * parsing JSON for every row of the range. */
    {30, "coverage indexes, delivery_bulletins",
     "CREATE INDEX IF NOT EXISTS deliveries_start ON deliveries(session_start);"
     "CREATE TABLE IF NOT EXISTS delivery_bulletins ("
     "  session INTEGER NOT NULL,"
     "  bulletin INTEGER NOT NULL,"
     "  cluster TEXT NOT NULL,"
     "  PRIMARY KEY (session, bulletin, cluster)) WITHOUT ROWID;"
     "INSERT OR IGNORE INTO delivery_bulletins (session, bulletin, cluster)"
     "  SELECT d.session, j.value, d.cluster FROM deliveries d, json_each(d.bulletins_whole) j;"
     "CREATE TRIGGER IF NOT EXISTS deliveries_bulletins_ins AFTER INSERT ON deliveries BEGIN"
     "  INSERT OR IGNORE INTO delivery_bulletins (session, bulletin, cluster)"
     "    SELECT new.session, j.value, new.cluster FROM json_each(new.bulletins_whole) j;"
     "END;"
     "CREATE TRIGGER IF NOT EXISTS deliveries_bulletins_upd AFTER UPDATE OF bulletins_whole"
     "  ON deliveries WHEN new.bulletins_whole IS NOT old.bulletins_whole BEGIN"
     "  DELETE FROM delivery_bulletins WHERE session = old.session AND cluster = old.cluster;"
     "  INSERT OR IGNORE INTO delivery_bulletins (session, bulletin, cluster)"
     "    SELECT new.session, j.value, new.cluster FROM json_each(new.bulletins_whole) j;"
     "END;"
     "CREATE TRIGGER IF NOT EXISTS deliveries_bulletins_del AFTER DELETE ON deliveries BEGIN"
     "  DELETE FROM delivery_bulletins WHERE session = old.session AND cluster = old.cluster;"
     "END;"
     "CREATE INDEX IF NOT EXISTS broadcasts_start ON broadcasts(start_at);"
     "CREATE INDEX IF NOT EXISTS broadcasts_host ON broadcasts(host) WHERE host IS NOT NULL;"},
    /* Issue 6, accounting at scale (server/stream/stream_engine.c, docs/streaming.md): a receiver in
     * step with its stream is written once with an anchor (its audio_s and bytes at the stream's
     * granule anchor_g and byte count anchor_bytes); later batches write only the stream's
     * progress, one row per session. deliveries_current adds that progress to anchored rows: it
     * is what the table holds up to the last batch, for any reader (also after a crash). Rows
     * with anchor_g NULL are complete as they are. */
    {31, "delivery anchors, delivery_progress, deliveries_current",
     "ALTER TABLE deliveries ADD COLUMN anchor_g INTEGER;"
     "ALTER TABLE deliveries ADD COLUMN anchor_bytes INTEGER;"
     "CREATE TABLE IF NOT EXISTS delivery_progress ("
     "  session INTEGER PRIMARY KEY,"
     "  granule INTEGER NOT NULL,"
     "  bytes INTEGER NOT NULL,"
     "  programme_s REAL NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE VIEW IF NOT EXISTS deliveries_current AS"
     " SELECT session, cluster, commune, session_start, session_end, connected_at,"
     "   disconnected_at, audio_s, programme_s, bytes, reconnections,"
     "   CASE WHEN moved THEN programme_s > 0 AND audio_s >= 0.9 * programme_s ELSE reached END"
     "     AS reached,"
     "   bulletins_whole, updated_at"
     " FROM (SELECT d.session, d.cluster, d.commune, d.session_start, d.session_end,"
     "   d.connected_at, d.disconnected_at, p.session IS NOT NULL AS moved, d.reached,"
     "   CASE WHEN p.session IS NULL THEN d.audio_s"
     "     WHEN p.programme_s > 0 THEN MIN(d.audio_s + (p.granule - d.anchor_g) / 48000.0,"
     "       p.programme_s)"
     "     ELSE d.audio_s + (p.granule - d.anchor_g) / 48000.0 END AS audio_s,"
     "   COALESCE(p.programme_s, d.programme_s) AS programme_s,"
     "   d.bytes + COALESCE(p.bytes - d.anchor_bytes, 0) AS bytes,"
     "   d.reconnections, d.bulletins_whole, COALESCE(p.updated_at, d.updated_at) AS updated_at"
     "  FROM deliveries d LEFT JOIN delivery_progress p"
     "   ON p.session = d.session AND d.anchor_g IS NOT NULL AND p.granule > d.anchor_g);"},
    /* Who supplied a bulletin's audio (an upload's user; NULL for the server's speech of the
     * author's text): nobody approves audio they supplied. */
    {32, "bulletins.audio_by", "ALTER TABLE bulletins ADD COLUMN audio_by TEXT;"},
    /* Session ids are never used twice: deliveries and coverage name sessions by id, and a
     * deleted commune's last id taken again by another commune's session mixed their rows.
     * AUTOINCREMENT needs the table made anew (same columns, same order, same indexes). */
    {33, "broadcasts ids never reused",
     "CREATE TABLE broadcasts_new ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  commune TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,"
     "  kind TEXT NOT NULL CHECK (kind IN ('slot','adhoc','emergency')),"
     "  start_at INTEGER NOT NULL,"
     "  end_at INTEGER NOT NULL CHECK (end_at >= start_at),"
     "  status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN"
     "    ('scheduled','on_air','done','interrupted','missed')),"
     "  programme TEXT,"
     "  frozen_at INTEGER,"
     "  aired_at_ms INTEGER,"
     "  ended_at_ms INTEGER,"
     "  host INTEGER,"
     "  created_by TEXT,"
     "  created_at INTEGER NOT NULL);"
     "INSERT INTO broadcasts_new SELECT * FROM broadcasts;"
     /* a commune deleted before this migration may have left higher ids in deliveries */
     "INSERT INTO sqlite_sequence (name, seq) SELECT 'broadcasts_new',"
     "  max(coalesce((SELECT max(id) FROM broadcasts), 0),"
     "      coalesce((SELECT max(session) FROM deliveries), 0))"
     "  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'broadcasts_new');"
     "UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(session) FROM deliveries), 0))"
     "  WHERE name = 'broadcasts_new';"
     "DROP TABLE broadcasts;"
     "ALTER TABLE broadcasts_new RENAME TO broadcasts;"
     "CREATE UNIQUE INDEX broadcasts_slot ON broadcasts(commune, start_at) WHERE kind = 'slot';"
     "CREATE INDEX broadcasts_commune ON broadcasts(commune, start_at);"
     "CREATE INDEX broadcasts_status ON broadcasts(status);"
     "CREATE INDEX broadcasts_start ON broadcasts(start_at);"
     "CREATE INDEX broadcasts_host ON broadcasts(host) WHERE host IS NOT NULL;"},
    /* A session's bulletins count as aired when its accounting is final, from what receivers
     * were sent (server/scheduler/airings.c); sessions that went on air before this counted on
     * opening. */
    {34, "broadcasts.airings_counted",
     "ALTER TABLE broadcasts ADD COLUMN airings_counted INTEGER NOT NULL DEFAULT 0;"
     "UPDATE broadcasts SET airings_counted = 1 WHERE status <> 'scheduled';"
     "CREATE INDEX broadcasts_uncounted ON broadcasts(id)"
     "  WHERE airings_counted = 0 AND status IN ('done', 'interrupted', 'missed');"},
    /* Communes and clusters with history are retired, not deleted (server/registry/): their
     * rows, ids and history stay; lists, schedules and receivers ignore them. */
    {35, "communes and clusters retired_at",
     "ALTER TABLE communes ADD COLUMN retired_at INTEGER;"
     "ALTER TABLE clusters ADD COLUMN retired_at INTEGER;"},
    /* A bulletin's audio named as receivers fetch it: the hex BLAKE2b-256 of the Ogg Opus file
     * (GET /media/{hash}.opus, server/media/). Rows with audio from before this are hashed at
     * start by the bulletins module (bulletin_media.c). */
    {36, "bulletins.media_hash",
     "ALTER TABLE bulletins ADD COLUMN media_hash TEXT;"
     "CREATE INDEX bulletins_media_hash ON bulletins(media_hash);"},
    /* Receivers that store (server/feed/): a cluster's desired volume and mute, sent in its
     * signed schedule; the version of each cluster's schedule and the digest of what it said, so
     * that a version names one content and only grows, across restarts. */
    {37, "clusters volume, muted; receiver_schedules",
     "ALTER TABLE clusters ADD COLUMN volume INTEGER NOT NULL DEFAULT 100"
     "  CHECK (volume BETWEEN 0 AND 100);"
     "ALTER TABLE clusters ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE receiver_schedules ("
     "  cluster TEXT PRIMARY KEY,"
     "  version INTEGER NOT NULL,"
     "  digest TEXT NOT NULL) WITHOUT ROWID;"},
    /* What receivers that store report they played (server/accounting/plays.c): one row per
     * cluster and play id (receivers send until acked: at least once). */
    {38, "plays",
     "CREATE TABLE plays ("
     "  cluster TEXT NOT NULL,"
     "  id TEXT NOT NULL,"
     "  commune TEXT NOT NULL,"
     "  session INTEGER NOT NULL,"
     "  bulletin INTEGER NOT NULL,"
     "  hash TEXT NOT NULL,"
     "  start_ms INTEGER NOT NULL,"
     "  end_ms INTEGER NOT NULL,"
     "  played_s REAL NOT NULL,"
     "  underruns INTEGER NOT NULL,"
     "  source TEXT NOT NULL CHECK (source IN ('cache', 'live')),"
     "  received_at INTEGER NOT NULL,"
     "  PRIMARY KEY (cluster, id)) WITHOUT ROWID;"
     "CREATE INDEX plays_session ON plays(session, cluster);"
     "CREATE INDEX plays_start ON plays(start_ms);"},
    /* A cluster whose live connections keep replacing each other from different addresses
     * (server/stream/stream.c): a likely cloned token, until the token is rotated. */
    {39, "clusters clone_suspected_at, clone_addresses",
     "ALTER TABLE clusters ADD COLUMN clone_suspected_at INTEGER;"
     "ALTER TABLE clusters ADD COLUMN clone_addresses TEXT;"},
    /* Broadcast rules (server/scheduler/rules_*.c): one JSON body per scope, '*' the defaults,
     * else a commune's own (gone with the commune); an emergency that broke one says which. */
    {40, "rules, broadcasts.rule_broken",
     "CREATE TABLE rules ("
     "  scope TEXT PRIMARY KEY,"
     "  body TEXT NOT NULL,"
     "  updated_by TEXT,"
     "  updated_at INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TRIGGER rules_commune_gone AFTER DELETE ON communes"
     "  BEGIN DELETE FROM rules WHERE scope = OLD.id; END;"
     "ALTER TABLE broadcasts ADD COLUMN rule_broken TEXT;"},
    /* Relays (tiếp sóng): a slot or an ad-hoc session whose sessions are an upstream stream. */
    {41, "slots.relay, broadcasts.relay",
     "ALTER TABLE slots ADD COLUMN relay TEXT;"
     "ALTER TABLE broadcasts ADD COLUMN relay TEXT;"},
    /* Issue 18, point 3 (server/selftest/): the weekly self-test and the broken-cluster report.
     * selftest_schedule: one row (days: bit 0 Monday .. bit 6 Sunday; time_s: local seconds of
     * the day; communes: JSON ["*"] or ids; last_due: the last occurrence started, so that a
     * restart neither repeats nor makes up one). selftest_texts: a text's bulletin (a text is
     * rendered once). selftests: one row per run and commune (session NULL when skipped);
     * selftest_results: one verdict per cluster and run, from which "failing since" is read. */
    {42, "self-tests",
     "CREATE TABLE selftest_schedule ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 127),"
     "  time_s INTEGER NOT NULL CHECK (time_s BETWEEN 0 AND 86399),"
     "  text TEXT NOT NULL,"
     "  communes TEXT NOT NULL,"
     "  enabled INTEGER NOT NULL DEFAULT 0,"
     "  last_due INTEGER NOT NULL DEFAULT 0,"
     "  updated_by TEXT,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE TABLE selftest_texts ("
     "  text TEXT PRIMARY KEY,"
     "  bulletin INTEGER NOT NULL REFERENCES bulletins(id) ON DELETE CASCADE) WITHOUT ROWID;"
     "CREATE TABLE selftest_runs ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  started_at INTEGER NOT NULL,"
     "  started_by TEXT NOT NULL,"
     "  scheduled INTEGER NOT NULL DEFAULT 0,"
     "  bulletin INTEGER NOT NULL);"
     "CREATE TABLE selftests ("
     "  run INTEGER NOT NULL REFERENCES selftest_runs(id) ON DELETE CASCADE,"
     "  commune TEXT NOT NULL,"
     "  session INTEGER,"
     "  start_at INTEGER,"
     "  end_at INTEGER,"
     "  state TEXT NOT NULL CHECK (state IN ('pending', 'judged', 'skipped', 'not_aired')),"
     "  reason TEXT,"
     "  settled_at INTEGER,"
     "  PRIMARY KEY (run, commune)) WITHOUT ROWID;"
     "CREATE INDEX selftests_pending ON selftests(run) WHERE state = 'pending';"
     "CREATE TABLE selftest_results ("
     "  cluster TEXT NOT NULL,"
     "  run INTEGER NOT NULL REFERENCES selftest_runs(id) ON DELETE CASCADE,"
     "  commune TEXT NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  ok INTEGER NOT NULL,"
     "  reason TEXT,"
     "  PRIMARY KEY (cluster, run)) WITHOUT ROWID;"},
    /* ---- migration 43 (server/alerts/, docs/alerts.md) ---- CAP 1.2 alerts: one row per
     * message accepted (sender + identifier unique), its XML as received; and the communes'
     * administrative codes (mã đơn vị hành chính) that geocodes name. */
    {43, "alerts; communes.code",
     "ALTER TABLE communes ADD COLUMN code TEXT;"
     "CREATE UNIQUE INDEX communes_code ON communes(code) WHERE code IS NOT NULL;"
     "CREATE TABLE alerts ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  identifier TEXT NOT NULL,"
     "  sender TEXT NOT NULL,"
     "  sent TEXT NOT NULL,"
     "  sent_at INTEGER NOT NULL,"
     "  msg_type TEXT NOT NULL CHECK (msg_type IN ('Alert', 'Update', 'Cancel')),"
     "  cap_status TEXT NOT NULL,"
     "  scope TEXT NOT NULL,"
     "  category TEXT, event TEXT, urgency TEXT, severity TEXT, certainty TEXT,"
     "  headline TEXT,"
     "  area_desc TEXT,"
     "  title TEXT NOT NULL,"
     "  text TEXT NOT NULL,"
     "  communes TEXT NOT NULL,"
     "  expires_at INTEGER,"
     "  refs TEXT NOT NULL DEFAULT '[]',"
     "  replaced_by INTEGER REFERENCES alerts(id),"
     "  status TEXT NOT NULL CHECK (status IN ('awaiting', 'on_air', 'cancelled')),"
     "  bulletin INTEGER,"
     "  received_by TEXT NOT NULL,"
     "  received_at INTEGER NOT NULL,"
     "  confirmed_by TEXT,"
     "  confirmed_at INTEGER,"
     "  on_air_at INTEGER,"
     "  cancelled_at INTEGER,"
     "  xml BLOB NOT NULL,"
     "  UNIQUE (sender, identifier));"
     "CREATE INDEX alerts_status ON alerts(status, id);"},
    /* ---- end of migration 43 ---- */
    /* ---- migration 44 (issue 20, point 7): the station lexicon, server/lexicon/ ---- */
    {44, "lexicon_entries",
     "CREATE TABLE lexicon_entries ("
     "  word TEXT PRIMARY KEY,"
     "  reading TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  updated_by TEXT NOT NULL);"},
    /* ---- end of migration 44 ---- */
    /* ---- migration 45 (issue 19, point 1): the organisation tree, server/org/ ---- */
    /* Every existing commune, user, bulletin goes under one root node (id 1, named after the
     * station at the next start). audit.node is the acting user's node (NULL: the system's, seen
     * by root staff only). SQLite refuses REFERENCES with a non-NULL default in ADD COLUMN: the
     * node columns are checked by the code (server/org/org.h), the tree's own parent by a key. */
    {45, "nodes; communes.node, users.node, bulletins.node, audit.node",
     "CREATE TABLE nodes ("
     "  id INTEGER PRIMARY KEY,"
     "  name TEXT NOT NULL,"
     "  parent INTEGER REFERENCES nodes(id),"
     "  created_at INTEGER NOT NULL,"
     "  CHECK (parent IS NULL OR parent <> id));"
     "CREATE INDEX nodes_parent ON nodes(parent);"
     "CREATE UNIQUE INDEX nodes_one_root ON nodes((parent IS NULL)) WHERE parent IS NULL;"
     "INSERT INTO nodes (id, name, parent, created_at)"
     " VALUES (1, '', NULL, CAST(strftime('%s', 'now') AS INTEGER));"
     "ALTER TABLE communes ADD COLUMN node INTEGER NOT NULL DEFAULT 1;"
     "ALTER TABLE users ADD COLUMN node INTEGER NOT NULL DEFAULT 1;"
     "ALTER TABLE bulletins ADD COLUMN node INTEGER NOT NULL DEFAULT 1;"
     "ALTER TABLE audit ADD COLUMN node INTEGER;"
     "CREATE INDEX communes_node ON communes(node);"
     "CREATE INDEX users_node ON users(node);"
     "CREATE INDEX bulletins_node ON bulletins(node, id);"},
    /* ---- end of migration 45 ---- */
    /* ---- migration 46 (issue 19, point 4): rows of clusters that listen through Icecast,
     * server/accounting/delivery_icecast.c (NULL: the live stream; 'icecast') ---- */
    {46, "deliveries.via", "ALTER TABLE deliveries ADD COLUMN via TEXT;"},
    /* ---- end of migration 46 ---- */
};

const int lc_migrations_count = sizeof lc_migrations / sizeof lc_migrations[0];
