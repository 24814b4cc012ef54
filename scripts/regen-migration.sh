#!/bin/sh
# Regenerates the newest, not yet landed migration from the schema (development only: never run it
# on a migration that has landed on main).
set -e
cd "$(dirname "$0")/.."
last=$(ls migrations/*.sql | tail -1)
tag=$(basename "$last" .sql)
idx=${tag%%_*}
name=${tag#*_}
rm "$last" "migrations/meta/${idx}_snapshot.json"
node -e "const f='migrations/meta/_journal.json';const j=require('./'+f);j.entries=j.entries.filter(e=>e.tag!=='$tag');require('fs').writeFileSync(f,JSON.stringify(j,null,2)+'\n')"
npx drizzle-kit generate --name "$name"
