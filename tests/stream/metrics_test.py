"""Metrics that can alert (issue 15, point 5): /metrics per commune and per cluster, checked with
promtool, and the example alert rules of docs/alerts.yml checked too.

Two clusters; a session with one 12 s bulletin; k1 listens to it whole, k2 never connects:
- while it is on air: loacast_commune_on_air{commune} 1, loacast_commune_receivers_connected
  {commune} 1;
- after it: on_air 0, loacast_commune_reached_ratio{commune} 0.5, loacast_commune_clusters 2,
  loacast_cluster_online 1 for k1 (with its last_seen timestamp) and 0 for k2 (no timestamp);
- `promtool check metrics` accepts the whole scrape; `promtool check rules docs/alerts.yml`
  accepts the rules; `promtool test rules` fires LoacastClusterOffline and
  LoacastCommuneReachedLow on series like these."""
import os
import subprocess
import tempfile

import streamkit as K
from streamkit import check

ROOT = os.environ.get("LOACAST_SOURCE_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

RULES_TEST = """
rule_files: [%s]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'loacast_cluster_online{commune="xa",cluster="xa-2"}'
        values: '0x40'
      - series: 'loacast_commune_reached_ratio{commune="xa"}'
        values: '0.5x10'
    alert_rule_test:
      - eval_time: 35m
        alertname: LoacastClusterOffline
        exp_alerts:
          - exp_labels: {severity: warning, commune: xa, cluster: xa-2}
            exp_annotations:
              summary: "Cluster xa-2 of xa is offline"
              description: "Not seen for longer than offline_after_s (last: never)."
      - eval_time: 6m
        alertname: LoacastCommuneReachedLow
        exp_alerts:
          - exp_labels: {severity: warning, commune: xa}
            exp_annotations:
              summary: "xa: last session reached 50%% of its clusters"
              description: "GET /api/v1/coverage?commune=xa tells which clusters missed it."
"""


def series(s):
    out = {}
    for line in s.get("/metrics").body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 2, [(12, 440)])  # long enough to be seen on air: pages go 2-4 s ahead
        (k1, t1), (k2, _) = st.clusters
        c = st.commune
        start, _ = st.session(1)
        rc = K.Receiver(s.port, st.url(0)[0], t1)
        rc.start()
        K.wait_for(lambda: series(s).get('loacast_commune_on_air{commune="%s"}' % c) == 1, 30, "on air")
        K.wait_for(lambda: series(s).get('loacast_commune_receivers_connected{commune="%s"}' % c) == 1, 10,
                   "k1 counted as connected")
        K.wait_for(lambda: not rc.is_alive(), 60, "the session's stream to end")
        K.wait_for(lambda: 'loacast_commune_reached_ratio{commune="%s"}' % c in series(s), 30, "a reached ratio")
        m = series(s)
        check(m['loacast_commune_on_air{commune="%s"}' % c] == 0, m)
        check(m['loacast_commune_reached_ratio{commune="%s"}' % c] == 0.5, m)
        check(m['loacast_commune_clusters{commune="%s"}' % c] == 2, m)
        check(m['loacast_cluster_online{commune="%s",cluster="%s"}' % (c, k1)] == 1, m)
        check(m['loacast_cluster_online{commune="%s",cluster="%s"}' % (c, k2)] == 0, m)
        check('loacast_cluster_last_seen_timestamp_seconds{commune="%s",cluster="%s"}' % (c, k1) in m, m)
        check('loacast_cluster_last_seen_timestamp_seconds{commune="%s",cluster="%s"}' % (c, k2) not in m, m)
        p = subprocess.run(["promtool", "check", "metrics"], input=s.get("/metrics").body, capture_output=True)
        check(p.returncode == 0, "promtool check metrics: %s %s" % (p.stdout, p.stderr))
    rules = os.path.join(ROOT, "docs", "alerts.yml")
    p = subprocess.run(["promtool", "check", "rules", rules], capture_output=True)
    check(p.returncode == 0, "promtool check rules: %s %s" % (p.stdout, p.stderr))
    with tempfile.TemporaryDirectory() as tmp:
        t = os.path.join(tmp, "alerts_test.yml")
        with open(t, "w") as f:
            f.write(RULES_TEST % rules)
        p = subprocess.run(["promtool", "test", "rules", t], capture_output=True)
        check(p.returncode == 0, "promtool test rules: %s %s" % (p.stdout.decode(), p.stderr.decode()))
    print("ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
