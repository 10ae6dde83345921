CREATE TABLE IF NOT EXISTS deployments (
  id INTEGER PRIMARY KEY,
  release TEXT NOT NULL,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
