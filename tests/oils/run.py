#!/usr/bin/env python3
"""Run the Oils shell spec tests against real bash and against `hookbox shell`.

    python3 tests/oils/run.py SPEC_DIR [--hookbox PATH] [--bash PATH]
                              [--files a,b,...] [--json] [--failures]

SPEC_DIR is the `spec/` directory of an Oils checkout (see README.md).  Each
case is scored the way Oils' test/sh_spec.py scores it for the shell label
`bash`: the `## ... bash` qualified expectations (OK / BUG / N-I) when the case
has them, otherwise the plain ones; exit status 0 when none is given; stderr
must not contain a Python traceback.  PASS, OK, BUG and N-I count as a pass
(sh_spec counts none of them as a failure); FAIL and TIMEOUT do not.  Real bash
and hookbox-as-bash are held to the very same expectation.

How a case runs (as sh_spec does): the shell is started with no arguments, the
case's code on stdin, in a fresh temporary directory that is also $TMP, with
the environment sh_spec builds from scratch:
    PATH=<helpers>:<system PATH>  LC_ALL=C.UTF-8  LOCALE_ARCHIVE=
    OILS_GC_ON_EXIT=  REPO_ROOT=<SPEC_DIR/..>  SH=<bash path>  TMP=<case dir>
hookbox runs as `hookbox shell --env-passthrough --allow-all-commands`, so the
guest sees that same environment (plus the private TMPDIR hookbox adds) and may
start any host command through its bridge.  $SH is the bash path for both:
hookbox's guest runs `bash`/`sh` (any path) as itself, so `$SH -c ...` inside
hookbox stays in hookbox.

Deliberate differences from sh_spec (both shells get them alike):
  * <helpers> is a generated copy of SPEC_DIR/bin whose Python helpers
    (argv.py, printenv.py, ...) are ported to python3 with python2's output,
    plus a `python2` stand-in.  Oils' helpers need python2, which is usually
    absent, and hookbox's bridge may only execute programs under /usr, /bin,
    /opt... so the helpers run on the system python3.
  * PATH after <helpers> is a fixed system PATH (--path-env to change it),
    not the invoker's PATH (which may hold pyenv shims and the like).
  * Per-case timeout 10 s (--timeout).
"""

import argparse
import concurrent.futures
import errno
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# The default spec files: the parts of bash that deployment hooks lean on.
# Names are SPEC_DIR/<name>.test.sh.  Keep it sorted by theme, not by name.
DEFAULT_FILES = [
    # arithmetic
    'arith', 'dparen',
    # arrays, assoc arrays, assignment
    'array', 'array-basic', 'array-literal', 'array-assign', 'array-assoc',
    'assign', 'assign-extended', 'append',
    # expansions
    'brace-expansion', 'tilde', 'glob', 'quote', 'word-split',
    'command-sub', 'var-op-test', 'var-op-strip', 'var-op-patsub',
    'var-op-slice', 'var-op-len', 'var-ref', 'var-sub-quote', 'vars-special',
    # builtins
    'builtin-printf', 'builtin-read', 'builtin-echo', 'builtin-bracket',
    'builtin-set', 'sh-options', 'builtin-trap', 'builtin-cd', 'builtin-type',
    'builtin-meta', 'builtin-vars', 'builtin-eval-source',
    # control flow and commands
    'case_', 'if_', 'loop', 'dbracket', 'sh-func', 'errexit', 'exit-status',
    'pipeline', 'subshell', 'redirect', 'here-doc',
]

DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
OUTPUT_CAP = 4 * 1024 * 1024  # bytes kept per stream; the rest is drained

# ---------------------------------------------------------------------------
# Spec file parser: a port of test/sh_spec.py's Tokenizer and parser.

KEY_VALUE_RE = re.compile(
    r'''
   [#][#] \s+
   (?: (OK(?:-\d)? | BUG(?:-\d)? | N-I) \s+ ([\w+/]+) \s+ )?
   ([\w\-]+)              # key
   :
   \s* (.*)               # value
''', re.VERBOSE | re.ASCII)

END_MULTILINE_RE = re.compile(r'[#][#] \s+ END', re.VERBOSE | re.ASCII)

TEST_CASE_BEGIN, KEY_VALUE, KEY_VALUE_MULTILINE, END_MULTILINE, PLAIN_LINE, \
    EOF = range(6)
LEX_OUTER, LEX_RAW = 0, 1

META_FIELDS = ['our_shell', 'compare_shells', 'suite', 'tags',
               'oils_failures_allowed', 'oils_cpp_failures_allowed',
               'legacy_tmp_dir']


class ParseError(Exception):
    pass


class Tokenizer(object):
    def __init__(self, lines):
        self.lines = lines
        self.pos = 0
        self.line_num = 0
        self.cursor = None
        self.next()

    def _classify(self, line, lex_mode):
        if not line:
            return self.line_num, EOF, ''
        if lex_mode == LEX_OUTER and not line.strip():
            return None
        if line.startswith('####'):
            return self.line_num, TEST_CASE_BEGIN, line[4:].strip()
        m = KEY_VALUE_RE.match(line)
        if m:
            qualifier, shells, name, value = m.groups()
            if name in ('stdout', 'stderr'):
                value += '\n'
            kind = KEY_VALUE_MULTILINE if name in ('STDOUT', 'STDERR') \
                else KEY_VALUE
            return self.line_num, kind, (qualifier, shells, name, value)
        if END_MULTILINE_RE.match(line):
            return self.line_num, END_MULTILINE, None
        if line.startswith('##'):
            raise ParseError('line %d: invalid ## line %r'
                             % (self.line_num, line))
        if line.lstrip().startswith('#'):  # sh_spec drops comment lines
            return None
        return self.line_num, PLAIN_LINE, line

    def next(self, lex_mode=LEX_OUTER):
        while True:
            if self.pos < len(self.lines):
                line = self.lines[self.pos]
                self.pos += 1
            else:
                line = ''
            self.line_num += 1
            tok = self._classify(line, lex_mode)
            if tok is not None:
                break
        self.cursor = tok
        return tok

    def peek(self):
        return self.cursor


def _add_metadata(case, qualifier, shells, name, value, line_num):
    for shell in shells.split('/'):
        d = case.setdefault(shell, {})
        base = re.sub(r'-json$', '', name)
        if base in d or base + '-json' in d:
            raise ParseError('line %d: duplicate spec %r for %r'
                             % (line_num, name, shell))
        if 'qualifier' in d and qualifier != d['qualifier']:
            raise ParseError('line %d: inconsistent qualifier for %r'
                             % (line_num, shell))
        d[name] = value
        d['qualifier'] = qualifier


def _parse_key_values(tokens, case):
    while True:
        line_num, kind, item = tokens.peek()
        if kind == KEY_VALUE_MULTILINE:
            qualifier, shells, name, empty = item
            if empty:
                raise ParseError('line %d: value on the %s line'
                                 % (line_num, name))
            value_lines = []
            while True:
                tokens.next(lex_mode=LEX_RAW)
                _, kind2, item2 = tokens.peek()
                if kind2 != PLAIN_LINE:
                    break
                value_lines.append(item2)
            value = ''.join(value_lines)
            name = name.lower()
            if qualifier:
                _add_metadata(case, qualifier, shells, name, value, line_num)
            else:
                case[name] = value
            if kind2 == END_MULTILINE:
                tokens.next()
        elif kind == KEY_VALUE:
            qualifier, shells, name, value = item
            if qualifier:
                _add_metadata(case, qualifier, shells, name, value, line_num)
            else:
                case[name] = value
            tokens.next()
        else:
            break


def _parse_code(tokens, case):
    line_num, kind, item = tokens.peek()
    if kind != PLAIN_LINE:
        raise ParseError('line %d: expected a line of code' % line_num)
    code_lines = []
    while True:
        _, kind, item = tokens.peek()
        if kind != PLAIN_LINE:
            case['code'] = ''.join(code_lines)
            return
        code_lines.append(item)
        tokens.next(lex_mode=LEX_RAW)


def _parse_case(tokens):
    line_num, kind, item = tokens.peek()
    if kind == EOF:
        return None
    if kind != TEST_CASE_BEGIN:
        raise ParseError('line %d: expected ####' % line_num)
    tokens.next()
    case = {'desc': item, 'line_num': line_num}
    _parse_key_values(tokens, case)
    if 'code' in case:
        return case
    _parse_code(tokens, case)
    _parse_key_values(tokens, case)
    return case


def parse_spec_file(path):
    """Returns (file_metadata, cases).  Raises ParseError."""
    with open(path, encoding='utf-8', errors='surrogateescape') as f:
        lines = f.readlines()
    tokens = Tokenizer(lines)
    meta = {}
    while True:
        _, kind, item = tokens.peek()
        if kind != KEY_VALUE:
            break
        qualifier, shells, name, value = item
        if qualifier is not None or shells is not None:
            raise ParseError('qualifier in file metadata')
        meta[name] = value
        tokens.next()
    cases = []
    while True:
        case = _parse_case(tokens)
        if case is None:
            break
        cases.append(case)
    for name in meta:
        if name not in META_FIELDS:
            raise ParseError('invalid file metadata %r' % name)
    return meta, cases


# ---------------------------------------------------------------------------
# Assertions: a port of sh_spec.py's CreateAssertions for one shell label.

TIMEOUT, FAIL, BUG, BUG_2, NI, OK, OK_2, OK_3, OK_4, PASS = range(10)
RESULT_NAMES = ['TIME', 'FAIL', 'BUG', 'BUG-2', 'N-I', 'ok', 'ok-2', 'ok-3',
                'ok-4', 'pass']
QUALIFIERS = {None: PASS, 'BUG': BUG, 'BUG-2': BUG_2, 'N-I': NI, 'OK': OK,
              'OK-2': OK_2, 'OK-3': OK_3, 'OK-4': OK_4}


def _enc(s):
    return s.encode('utf-8', 'surrogateescape')


def _string_assertions(d, key, out, qualifier=None):
    found = False
    if d.get(key) is not None:
        out.append((key, _enc(d[key]), qualifier))
        found = True
    if d.get(key + '-json') is not None:
        out.append((key, _enc(json.loads(d[key + '-json'])), qualifier))
        found = True
    return found


def make_assertions(case, label='bash'):
    """List of (key, expected, qualifier).  May raise on a malformed case."""
    out = []
    stdout = stderr = status = False
    if label in case and isinstance(case[label], dict):
        d = case[label]
        q = d.get('qualifier')
        stdout = _string_assertions(d, 'stdout', out, q)
        stderr = _string_assertions(d, 'stderr', out, q)
        if d.get('status') is not None:
            out.append(('status', int(d['status']), q))
            status = True
    if not stdout:
        _string_assertions(case, 'stdout', out)
    if not stderr:
        _string_assertions(case, 'stderr', out)
    if not status:
        out.append(('status', int(case.get('status', 0)), None))
    return out


def score(assertions, actual):
    """The cell result (minimum over assertions) and the failed assertions."""
    if actual.get('timeout'):
        return TIMEOUT, []
    result = PASS
    failed = []
    for key, expected, qualifier in assertions:
        if actual[key] != expected:
            result = min(result, FAIL)
            failed.append(key)
        else:
            result = min(result, QUALIFIERS.get(qualifier, PASS))
    if b'Traceback (most recent' in actual['stderr']:
        result = FAIL
        failed.append('stderr-traceback')
    return result, failed


def is_pass(result):
    return result not in (TIMEOUT, FAIL)


# ---------------------------------------------------------------------------
# Helpers: SPEC_DIR/bin ported to python3 (python2 output), and `python2`.

ARGV_PY = '''\
import os, sys
# python2 printed sys.argv[1:] as a list of byte strings; bytes repr is the same
sys.stdout.write('[' + ', '.join(repr(os.fsencode(a))[1:]
                                 for a in sys.argv[1:]) + ']\\n')
'''

PRINTENV_PY = '''\
import os, sys
out = sys.stdout.buffer
for name in sys.argv[1:]:
    v = os.environb.get(os.fsencode(name))
    out.write((b'None' if v is None else v) + b'\\n')
'''

STDOUT_STDERR_PY = '''\
import os, sys
a = [os.fsencode(x) for x in sys.argv]
sys.stdout.buffer.write((a[1] if len(a) > 1 else b'STDOUT') + b'\\n')
sys.stdout.flush()
sys.stderr.buffer.write((a[2] if len(a) > 2 else b'STDERR') + b'\\n')
sys.exit(int(a[3]) if len(a) > 3 else 0)
'''

READ_FROM_FD_PY = '''\
import os, sys
for arg in sys.argv[1:]:
    fd = int(arg)
    try:
        data = os.read(fd, 1024)
    except OSError as e:
        sys.stderr.write('FATAL: Error reading from fd %d: %s\\n' % (fd, e))
        sys.exit(1)
    sys.stdout.buffer.write(b'%d: ' % fd + data)
    sys.stdout.flush()
'''

SHOW_FD_TABLE_PY = '''\
import os
d = '/proc/self/fd/'
for fd in os.listdir(d):
    try:
        print('%s %s' % (fd, os.readlink(os.path.join(d, fd))))
    except OSError as e:
        print('%s %s' % (fd, e))
'''

# Approximates python2 for `python2 -c CODE` / `python2 FILE`: the source and
# stdout/stderr are treated as latin-1, so "\\xce" literals print as raw bytes
# the way python2's byte strings did; printing bytes writes them raw.
PYTHON2_SHIM = '''\
import builtins, io, os, sys
args = sys.argv[1:]
while args and args[0].startswith('-') and args[0] not in ('-c', '-'):
    args.pop(0)  # ignore interpreter flags such as -S, -u
if args and args[0] == '-c':
    src, argv = os.fsencode(args[1]) if len(args) > 1 else b'', ['-c'] + args[2:]
elif args and args[0] != '-':
    with open(args[0], 'rb') as f:
        src = f.read()
    argv = args
else:
    src, argv = sys.stdin.buffer.read(), ['-'] + args[1:]
sys.argv = argv
def _wrap(s):
    return io.TextIOWrapper(s.buffer, encoding='latin-1',
                            errors='backslashreplace', line_buffering=True)
sys.stdout, sys.stderr = _wrap(sys.stdout), _wrap(sys.stderr)
_print = builtins.print
def print(*a, **kw):
    _print(*[x.decode('latin-1') if isinstance(x, bytes) else x for x in a],
           **kw)
builtins.print = print
g = {'__name__': '__main__', '__builtins__': builtins}
exec(compile(src.decode('latin-1'), argv[0], 'exec'), g)
'''

PORTS = {
    'argv.py': ARGV_PY,
    'printenv.py': PRINTENV_PY,
    'stdout_stderr.py': STDOUT_STDERR_PY,
    'read_from_fd.py': READ_FROM_FD_PY,
    'show_fd_table.py': SHOW_FD_TABLE_PY,
}


def find_python3():
    # Under /usr so that hookbox's confined bridge may execute it.
    for d in ('/usr/bin', '/usr/local/bin', '/bin'):
        p = os.path.join(d, 'python3')
        if os.access(p, os.X_OK):
            return p
    return sys.executable


def make_helpers(spec_dir, dest, python3):
    os.makedirs(dest, exist_ok=True)
    src_bin = os.path.join(spec_dir, 'bin')
    names = sorted(os.listdir(src_bin)) if os.path.isdir(src_bin) else []
    for name in names:
        src = os.path.join(src_bin, name)
        dst = os.path.join(dest, name)
        if not os.path.isfile(src):
            continue
        with open(src, 'rb') as f:
            data = f.read()
        first = data.split(b'\n', 1)[0]
        if name in PORTS:
            data = ('#!%s\n' % python3 + PORTS[name]).encode()
        elif first.startswith(b'#!') and b'python' in first:
            rest = data.split(b'\n', 1)[1] if b'\n' in data else b''
            data = b'#!' + python3.encode() + b'\n' + rest
        with open(dst, 'wb') as f:
            f.write(data)
        os.chmod(dst, os.stat(src).st_mode | 0o755)
    shim = os.path.join(dest, 'python2')
    with open(shim, 'w') as f:
        f.write('#!%s\n' % python3 + PYTHON2_SHIM)
    os.chmod(shim, 0o755)


# ---------------------------------------------------------------------------
# Running one case.

def run_process(argv, code, env, cwd, timeout, executable=None):
    """Runs argv with code on stdin.  Never raises; returns a dict."""
    res = {'stdout': b'', 'stderr': b'', 'status': None, 'timeout': False,
           'error': None, 'seconds': 0.0}
    start = time.monotonic()
    try:
        p = subprocess.Popen(argv, executable=executable, env=env, cwd=cwd,
                             stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    except OSError as e:
        res['error'] = 'cannot start %s: %s' % (argv[0], e)
        res['status'] = 127
        res['stderr'] = res['error'].encode()
        return res
    deadline = start + timeout
    out_fd, err_fd = p.stdout.fileno(), p.stderr.fileno()
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    readers = list(bufs)
    to_write = _enc(code)
    wfd = p.stdin.fileno()
    os.set_blocking(wfd, False)
    writers = [wfd]

    def close_stdin():
        if writers:
            writers.clear()
            try:
                p.stdin.close()
            except OSError:
                pass

    if not to_write:
        close_stdin()
    exited_at = None
    try:
        while readers:
            now = time.monotonic()
            if now >= deadline:
                break
            if exited_at is None and p.poll() is not None:
                exited_at = now
            wait = min(deadline - now, 0.2)
            try:
                r, w, _ = select.select(readers, writers, [], wait)
            except InterruptedError:
                continue
            for fd in w:
                try:
                    n = os.write(fd, to_write[:65536])
                    to_write = to_write[n:]
                except BlockingIOError:
                    pass
                except OSError:  # EPIPE: the shell stopped reading
                    to_write = b''
                if not to_write:
                    close_stdin()
            for fd in r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b''
                if not chunk:
                    readers.remove(fd)
                elif len(bufs[fd]) < OUTPUT_CAP:
                    bufs[fd] += chunk[:OUTPUT_CAP - len(bufs[fd])]
        close_stdin()
        if p.poll() is None:
            # Still running at the deadline (or pipes closed, then wait).
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                res['timeout'] = True
                _kill_group(p, signal.SIGTERM)
                try:
                    p.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    pass
    finally:
        # Whatever is left of the case (background jobs) goes.
        _kill_group(p, signal.SIGKILL)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for s in (p.stdout, p.stderr, p.stdin):
            try:
                s.close()
            except OSError:
                pass
    res['stdout'] = bytes(bufs[out_fd])
    res['stderr'] = bytes(bufs[err_fd])
    res['status'] = p.returncode if p.returncode is not None else -9
    res['seconds'] = time.monotonic() - start
    return res


def _kill_group(p, sig):
    try:
        os.killpg(p.pid, sig)
    except OSError:
        pass


def prepare_dir(path, legacy_tmp_dir):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    if legacy_tmp_dir:
        os.mkdir(os.path.join(path, '_tmp'))


def remove_dir(path):
    def onerror(func, p, exc):
        try:  # a case may leave read-only dirs behind
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o755)
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=onerror)


class Runner(object):
    def __init__(self, args, run_dir):
        self.args = args
        self.run_dir = run_dir
        self.spec_dir = os.path.abspath(args.spec_dir)
        self.repo_root = os.path.dirname(self.spec_dir)
        self.helpers = os.path.join(run_dir, 'bin')
        make_helpers(self.spec_dir, self.helpers, find_python3())
        self.path = self.helpers + ':' + args.path_env
        self.cache_dir = os.path.join(run_dir, 'hookbox-cache')
        os.makedirs(self.cache_dir, exist_ok=True)

    def base_env(self, case_dir):
        return {
            'PATH': self.path,
            'LC_ALL': 'C.UTF-8',
            'LOCALE_ARCHIVE': '',
            'OILS_GC_ON_EXIT': '',
            'REPO_ROOT': self.repo_root,
            'SH': self.args.bash,
            'TMP': case_dir,
        }

    def run_case(self, spec_name, index, case, label, legacy_tmp_dir):
        case_dir = os.path.join(self.run_dir, 'tmp', spec_name,
                                '%02d-%s' % (index, label))
        try:
            prepare_dir(case_dir, legacy_tmp_dir)
        except OSError as e:
            return {'stdout': b'', 'stderr': str(e).encode(), 'status': None,
                    'timeout': False, 'error': 'tmp dir: %s' % e}
        env = self.base_env(case_dir)
        executable = None
        if label == 'bash':
            # argv[0] 'bash', as when sh_spec runs `bash` from PATH: the
            # expected error messages read "bash: line 2: ...".
            argv, executable = ['bash'], self.args.bash
        else:
            # hookbox reads its module cache location from the environment
            # and does not pass HOOKBOX_CACHE_DIR on to the guest.
            env['HOOKBOX_CACHE_DIR'] = self.cache_dir
            argv = [self.args.hookbox, 'shell', '--env-passthrough',
                    '--allow-all-commands',
                    '--timeout', str(int(self.args.timeout) + 5)]
        res = run_process(argv, case.get('code', ''), env, case_dir,
                          self.args.timeout, executable)
        if not self.args.keep_tmp:
            remove_dir(case_dir)
        return res


def run_file(runner, spec_name, pool):
    """Returns a dict for the file (counts, per-case records)."""
    path = os.path.join(runner.spec_dir, spec_name + '.test.sh')
    info = {'file': spec_name, 'cases': 0, 'bash_pass': 0, 'hookbox_pass': 0,
            'error': None, 'records': []}
    try:
        meta, cases = parse_spec_file(path)
    except (OSError, ParseError, ValueError, IndexError) as e:
        info['error'] = '%s: %s' % (type(e).__name__, e)
        return info
    legacy = bool(meta.get('legacy_tmp_dir'))
    rx = re.compile(runner.args.match, re.I) if runner.args.match else None
    jobs = []
    for i, case in enumerate(cases):
        if rx and not rx.search(case['desc']):
            continue
        for label in ('bash', 'hookbox'):
            fut = pool.submit(runner.run_case, spec_name, i, case, label,
                              legacy)
            jobs.append((i, case, label, fut))
    by_case = {}
    for i, case, label, fut in jobs:
        try:
            actual = fut.result()
        except Exception as e:  # never crash on an odd case
            actual = {'stdout': b'', 'stderr': repr(e).encode(),
                      'status': None, 'timeout': False, 'error': repr(e)}
        rec = by_case.setdefault(i, {'index': i, 'desc': case['desc'],
                                     'line': case['line_num'],
                                     'code': case.get('code', '')})
        try:
            assertions = make_assertions(case, 'bash')
            result, failed = score(assertions, actual)
        except Exception as e:
            assertions, result, failed = [], FAIL, ['bad-case: %s' % e]
        if label == 'hookbox' and actual.get('error'):
            result = min(result, FAIL)
        rec[label] = {'result': result, 'failed': failed, 'actual': actual}
        rec['assertions'] = assertions
    for i in sorted(by_case):
        rec = by_case[i]
        info['cases'] += 1
        info['bash_pass'] += is_pass(rec['bash']['result'])
        info['hookbox_pass'] += is_pass(rec['hookbox']['result'])
        info['records'].append(rec)
    return info


# ---------------------------------------------------------------------------
# Reporting.

def _short(b, limit=400):
    s = b.decode('utf-8', 'backslashreplace') if isinstance(b, bytes) else \
        str(b)
    return s if len(s) <= limit else s[:limit] + '...[%d more]' % (
        len(s) - limit)


def failure_entries(infos):
    out = []
    for info in infos:
        for rec in info['records']:
            b, h = rec['bash'], rec['hookbox']
            if not (is_pass(b['result']) and not is_pass(h['result'])):
                continue
            exp = {}
            for key, expected, _q in rec['assertions']:
                if key not in exp:
                    exp[key] = expected
            act = h['actual']
            out.append({
                'file': info['file'], 'index': rec['index'],
                'line': rec['line'], 'desc': rec['desc'],
                'result': RESULT_NAMES[h['result']],
                'failed': h['failed'],
                'expected_stdout': _short(exp.get('stdout', bash_out(rec))),
                'expected_status': exp.get('status'),
                'expected_stderr': (_short(exp['stderr'])
                                    if 'stderr' in exp else None),
                'hookbox_stdout': _short(act['stdout']),
                'hookbox_status': act['status'],
                'hookbox_stderr': _short(act['stderr'], 300),
                'timeout': act.get('timeout', False),
                'code': _short(rec['code'], 800),
            })
    return out


def bash_out(rec):
    # No stdout assertion: show what bash printed, for comparison.
    return rec['bash']['actual']['stdout']


def print_table(infos, out):
    w = max([len(i['file']) for i in infos] + [5])
    fmt = '%-*s %6s %6s %8s %8s'
    out.write(fmt % (w, 'file', 'cases', 'bash', 'hookbox', 'b-not-h') + '\n')
    out.write('-' * (w + 32) + '\n')
    tot = [0, 0, 0, 0]
    for i in infos:
        reg = sum(1 for r in i['records'] if is_pass(r['bash']['result']) and
                  not is_pass(r['hookbox']['result']))
        row = [i['cases'], i['bash_pass'], i['hookbox_pass'], reg]
        tot = [a + b for a, b in zip(tot, row)]
        note = '  (%s)' % i['error'] if i['error'] else ''
        out.write(fmt % ((w, i['file']) + tuple(row)) + note + '\n')
    out.write('-' * (w + 32) + '\n')
    out.write(fmt % ((w, 'TOTAL') + tuple(tot)) + '\n')
    if tot[0]:
        out.write('bash %.1f%%, hookbox %.1f%% of cases; hookbox passes '
                  '%.1f%% of what bash passes\n' % (
                      100.0 * tot[1] / tot[0], 100.0 * tot[2] / tot[0],
                      100.0 * (tot[1] - tot[3]) / max(tot[1], 1)))


def print_failures(fails, out):
    out.write('\n# Cases bash passes and hookbox fails: %d\n' % len(fails))
    for f in fails:
        out.write('\n== %s #%d (line %d): %s  [%s: %s]\n' % (
            f['file'], f['index'], f['line'], f['desc'], f['result'],
            ','.join(f['failed']) or 'timeout'))
        if f['timeout']:
            out.write('   timed out\n')
        out.write('   status: expected %s, got %s\n' % (
            f['expected_status'], f['hookbox_status']))
        if 'stdout' in f['failed'] or f['timeout']:
            out.write('   expected stdout: %r\n' % f['expected_stdout'])
            out.write('   hookbox  stdout: %r\n' % f['hookbox_stdout'])
        if 'stderr' in f['failed']:
            out.write('   expected stderr: %r\n' % f['expected_stderr'])
        if f['hookbox_stderr']:
            out.write('   hookbox  stderr: %r\n' % f['hookbox_stderr'][:300])


def main(argv):
    p = argparse.ArgumentParser(
        description='Oils spec tests: real bash vs `hookbox shell`.')
    p.add_argument('spec_dir', help="an Oils checkout's spec/ directory")
    here = os.path.dirname(os.path.abspath(__file__))
    default_hb = os.path.normpath(
        os.path.join(here, '..', '..', 'target', 'debug', 'hookbox'))
    p.add_argument('--hookbox', default=default_hb,
                   help='hookbox binary (default: %(default)s); it is copied '
                   'first, so a rebuild during the run does not matter')
    p.add_argument('--bash', default=shutil.which('bash') or '/bin/bash',
                   help='real bash (default: %(default)s)')
    p.add_argument('--files', help='comma-separated spec names (arith or '
                   'arith.test.sh); default: the hook-relevant list')
    p.add_argument('--json', action='store_true', help='print JSON')
    p.add_argument('--failures', action='store_true',
                   help='list cases bash passes and hookbox fails')
    p.add_argument('--match', help='only cases whose description matches '
                   'this regex')
    p.add_argument('--timeout', type=float, default=10.0,
                   help='per-case timeout in seconds (default 10)')
    p.add_argument('--jobs', type=int, default=1,
                   help='cases run in parallel (default 1)')
    p.add_argument('--path-env', default=DEFAULT_PATH,
                   help='PATH after the helpers (default: %(default)s)')
    p.add_argument('--keep-tmp', action='store_true',
                   help='keep the run directory (case dirs, helpers)')
    p.add_argument('--quiet', action='store_true', help='no progress lines')
    args = p.parse_args(argv)

    if not os.path.isdir(args.spec_dir):
        p.error('not a directory: %s' % args.spec_dir)
    args.bash = os.path.abspath(args.bash)
    if args.files:
        names = [re.sub(r'\.test\.sh$', '', n.strip())
                 for n in args.files.split(',') if n.strip()]
    else:
        names = list(DEFAULT_FILES)
    missing = [n for n in names if not os.path.isfile(
        os.path.join(args.spec_dir, n + '.test.sh'))]
    for n in missing:
        sys.stderr.write('warning: no %s.test.sh in %s\n' % (n, args.spec_dir))

    run_dir = tempfile.mkdtemp(prefix='hookbox-oils-')
    try:
        snapshot = os.path.join(run_dir, 'hookbox')
        try:
            shutil.copy2(args.hookbox, snapshot)
        except OSError as e:
            p.error('cannot copy --hookbox %s: %s' % (args.hookbox, e))
        args.hookbox = snapshot
        runner = Runner(args, run_dir)
        infos = []
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            for n in names:
                t0 = time.monotonic()
                info = run_file(runner, n, pool)
                infos.append(info)
                if not args.quiet:
                    sys.stderr.write('%-22s %4d cases  bash %4d  hookbox %4d'
                                     '  (%.0fs)%s\n' % (
                                         n, info['cases'], info['bash_pass'],
                                         info['hookbox_pass'],
                                         time.monotonic() - t0,
                                         '  ' + info['error'] if info['error']
                                         else ''))
    finally:
        if args.keep_tmp:
            sys.stderr.write('kept %s\n' % run_dir)
        else:
            remove_dir(run_dir)

    fails = failure_entries(infos) if args.failures else None
    if args.json:
        tot = {'cases': 0, 'bash_pass': 0, 'hookbox_pass': 0}
        files = []
        for i in infos:
            files.append({k: i[k] for k in ('file', 'cases', 'bash_pass',
                                             'hookbox_pass', 'error')})
            for k in tot:
                tot[k] += i[k]
        doc = {'spec_dir': os.path.abspath(args.spec_dir),
               'bash': args.bash, 'files': files, 'totals': tot}
        if fails is not None:
            doc['failures'] = fails
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write('\n')
    else:
        print_table(infos, sys.stdout)
        if fails is not None:
            print_failures(fails, sys.stdout)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
