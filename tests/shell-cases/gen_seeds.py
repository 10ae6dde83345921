"""Writes seeds.yaml: every example script of the seed documents as a case, with stand-ins for
the external tools they call (./bin first on PATH), so bash and hookbox run them without the
network. Usage: gen_seeds.py OUT.yaml [SEEDS_DIR] (default SEEDS_DIR: /work/shared/seeds).
Block N is the N-th ```bash block of the Flux-Orbit document (002_*.txt)."""
import glob, os, re, yaml, sys

SEEDS = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/seeds"
_doc = open(glob.glob(os.path.join(SEEDS, "002_*.txt"))[0]).read()
BLOCKS = re.findall(r"^```bash\n(.*?)^```", _doc, flags=re.S | re.M)
B = lambda n: BLOCKS[n - 1]
STUB_OK = '#!/bin/sh\necho "stub ${0##*/}: $*"\n'
STUB_NPX = '#!/bin/sh\necho "stub npx: $* (DATABASE_URL=${DATABASE_URL-unset})"\n'
STUB_FAIL = '#!/bin/sh\necho "stub ${0##*/} failed: $1" >&2\nexit 1\n'
# curl's payload may hold the time of day; show only its shape.
STUB_CURL = '#!/bin/sh\necho "stub curl: $# args: $1 $2"\n'
STUB_GIT = '#!/bin/sh\ncase "$1 $2" in\n  "rev-parse --short") echo abc1234;;\n  "rev-parse HEAD") echo abc1234def5678abc1234def5678abc1234def56;;\n  *) echo "stub git: $*";;\nesac\n'
CMDS = ["npx", "curl", "git", "python", "bundle", "docker", "drush8", "newrelic"]
PRELUDE = '# Test prelude: stand-ins for the external tools, so no network is used.\nPATH="$PWD/bin:$PATH"\n'

def stubs(fail=()):
    files = []
    for c in CMDS:
        if c in fail: body = STUB_FAIL
        elif c == "npx": body = STUB_NPX
        elif c == "git": body = STUB_GIT
        elif c == "curl": body = STUB_CURL
        else: body = STUB_OK
        files.append({"path": f"bin/{c}", "executable": True, "contents": body})
    return files

cases = []
def add(name, script, env=None, fail=(), args=None, extra_files=(), ignore_stdout=False):
    c = {"name": name}
    if ignore_stdout: c["ignore_stdout"] = True
    if args: c["args"] = args
    if env: c["env"] = env
    c["test_files"] = stubs(fail) + list(extra_files)
    c["stdin"] = PRELUDE + script
    cases.append(c)

# 000: Site Factory post-staging-update
acsf = """#!/usr/bin/env bash
SITEGROUP="$1"
ENVIRONMENT="$2"
DB_ROLE="$3"
DOMAIN="$4"

echo "sitegroup: $SITEGROUP"
echo "env: $ENVIRONMENT"
echo "db role: $DB_ROLE"
echo "domain: $DOMAIN"

\\drush8 -r /var/www/html/$SITEGROUP.$ENVIRONMENT/docroot -l $DOMAIN ev 'echo "Hello world";'
"""
add("acsf post-staging-update example", acsf, args=["-s", "mysite", "01live", "site-db", "www.example.com"])
add("acsf post-staging-update example, drush fails", acsf, args=["-s", "mysite", "01live", "site-db", "www.example.com"], fail=("drush8",))
add("acsf post-staging-update example without arguments", acsf)

# 001: Scalingo Procfile postdeploy lines
env_sc = {"CONTAINER_VERSION": "v42", "ROLLBAR_ACCESS_TOKEN": "tok", "RAILS_ENV": "production"}
add("scalingo postdeploy migrations", "bundle exec rake db:migrate\n", env=env_sc)
add("scalingo postdeploy newrelic", "newrelic deployments --revision=$CONTAINER_VERSION\n", env=env_sc)
add("scalingo postdeploy rollbar", "curl https://api.rollbar.com/api/1/deploy/ -F access_token=$ROLLBAR_ACCESS_TOKEN -F environment=$RAILS_ENV -F revision=$CONTAINER_VERSION -F local_username=scalingo\n", env=env_sc)
both = "bundle exec rake db:migrate && newrelic deployments --revision=$CONTAINER_VERSION\n"
add("scalingo postdeploy migrations and notification", both, env=env_sc)
add("scalingo postdeploy failed migration skips notification", both, env=env_sc, fail=("bundle",))
add("scalingo postdeploy unknown command", "rake-that-does-not-exist db:migrate\n", env=env_sc)

# 002: Flux-Orbit examples
env_flux = {"SLACK_WEBHOOK_URL": "https://hooks.example.invalid/x", "APP_PORT": "3000", "NODE_ENV": "production"}
add("flux quick start pre-deploy", B(1))
add("flux quick start pre-deploy, migration fails", B(1), fail=("npx",))
add("flux quick start post-deploy", B(2))
add("flux git commands", B(3))
add("flux prisma migrations", B(4))
add("flux prisma generate fails", B(4), fail=("npx",))
add("flux django migrations", B(5))
add("flux django migrate fails", B(5), fail=("python",))
add("flux rails migrations", B(6))
add("flux slack notification", B(7), env=env_flux)
add("flux slack notification, curl fails", B(7), env=env_flux, fail=("curl",))
add("flux cache warming", B(8), env=env_flux)
add("flux cache warming without APP_PORT", B(8))
add("flux failing pre-deploy", B(9), fail=("npx",))
add("flux failing pre-deploy, migration succeeds", B(9))
add("flux failing post-deploy", B(10), env=env_flux, fail=("curl",))
add("flux HOOK_TIMEOUT assignment", B(11))
# `ls -la` prints owner and time of day: only status and stderr are comparable.
add("flux troubleshooting commands", B(12), ignore_stdout=True, extra_files=[{"path": "pre-deploy.sh", "contents": "#!/bin/bash\nset -e\nnpx prisma migrate deploy\n"}])
add("flux runtime commands", B(13))
add("flux runtime commands, python fails", B(13), fail=("python",))
add("flux DATABASE_URL check, set", B(14), env={"DATABASE_URL": "postgresql://user:pass@host:5432/dbname"})
add("flux DATABASE_URL check, unset", B(14))
add("flux debug logging", B(15), env={"DATABASE_URL": "postgresql://user:pass@host:5432/dbname", "NODE_ENV": "production"})
add("flux debug logging, nothing set", B(15))
add("flux WORK_DIR, set", B(16), env={"WORK_DIR": "app"}, extra_files=[{"path": "app/.keep", "contents": ""}])
add("flux WORK_DIR, missing directory", B(16), env={"WORK_DIR": "missing-dir"})
add("flux dependencies installed", B(17))
add("flux hooks.log commands", B(18))
add("flux hard-coded secret example", B(19))
add("flux API_TOKEN check, set", B(20), env={"API_TOKEN": "sk-test"})
add("flux API_TOKEN check, unset", B(20))
req_all = {"DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r:6379", "API_KEY": "k"}
add("flux required variables, all set", B(21), env=req_all)
add("flux required variables, REDIS_URL missing", B(21), env={"DATABASE_URL": "postgresql://db", "API_KEY": "k"})
add("flux required variables, API_KEY empty", B(21), env=dict(req_all, API_KEY=""))
add("flux ssl check, plain URL", B(22) + 'echo "final: $DATABASE_URL"\n', env={"DATABASE_URL": "postgresql://db/app"})
add("flux ssl check, already ssl", B(22) + 'echo "final: $DATABASE_URL"\n', env={"DATABASE_URL": "postgresql://db/app?sslmode=require"})
add("flux non-root example", B(23))
add("flux from heroku", B(24))
add("flux from render", B(25))
add("flux from railway", B(26))
add("flux conditional migrations, production", B(27), env={"NODE_ENV": "production"})
add("flux conditional migrations, development", B(27), env={"NODE_ENV": "development"})
add("flux conditional migrations, unset", B(27))
add("flux multiple databases", B(28), env={"PRIMARY_DATABASE_URL": "postgresql://primary/app", "ANALYTICS_DATABASE_URL": "postgresql://analytics/app", "DATABASE_URL": "postgresql://default"})
add("flux multiple databases, analytics fails", B(28), env={"PRIMARY_DATABASE_URL": "postgresql://primary/app"}, fail=("npx",))
add("flux multi-instance, primary", B(29), env={"FLUX_PEER_INDEX": "0"})
add("flux rollback-aware migration, success", B(30))
add("flux rollback-aware migration, failure", B(30), fail=("npx",))

class D(yaml.SafeDumper): pass
def str_rep(dumper, s):
    style = "|" if "\n" in s else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)
D.add_representer(str, str_rep)
doc = {"name": "Seed examples (stand-in tools in ./bin, first on PATH)", "cases": cases}
out = yaml.dump(doc, Dumper=D, sort_keys=False, width=1000, allow_unicode=True)
open(sys.argv[1], "w").write(out)
print(len(cases))
