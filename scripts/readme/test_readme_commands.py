#!/usr/bin/env python3
"""Runs the shell commands of README.md as written and checks their output.

Run by scripts/test.sh after the Swift tests (the binary is .build/debug/paymesh, or
$PAYMESH_BIN):  python3 scripts/readme/test_readme_commands.py [--readme README.md] [--list]

How README.md marks its blocks
------------------------------
Every fenced block whose language is empty, `sh`, `bash` or `shell` holds commands, one a line
(`#` lines are comments; a line ending in `\\` continues on the next). The HTML comment right
before such a block says what to do with it — it does not show when the README is rendered:

    <!-- readme-test: skip: REASON -->        the block is not run (REASON is printed)

    <!-- readme-test
    DIRECTIVE                               one per command line of the block, in order
    + DIRECTIVE -- COMMAND                  an extra command the test runs at this point
    -->                                     (a node to talk to, a mesh to pay on, a stop)

A DIRECTIVE is words (shell quoting):
    run | background | skip REASON…   run it to its end (default); start it and go on once its
                                      output shows every `expect` (it is stopped after the
                                      block); or do not run it
    expect TEXT                       the output (stdout + stderr) contains TEXT (repeatable)
    status N                          the exit status (default 0)
    capture VAR=REGEX                 the first match (group 1 if any) becomes $VAR for later
                                      commands of the block
    sub OLD NEW                       replace OLD in the command before it runs (a placeholder
                                      such as 0x… becomes $CHANNEL); why, in a `#` comment
    env VAR=VALUE                     run with this environment variable (e.g. on the payee;
                                      ~ and $VAR in VALUE are expanded)
    stdin TEXT                        feed TEXT and a newline on standard input
    timeout S                         seconds for this command (default 90)
    cwd repo                          run in the repository instead of the scratch directory
`# …` at the end of a directive is a comment. A block without a marker, or with more or fewer
directives than commands, fails the check: a new README command is run or explicitly skipped.

Where it runs: HOME is a fresh scratch directory (so ~/.paymesh is a throwaway data directory),
the working directory is that scratch directory, PAYMESH_MESH_DIR points inside it, and
`paymesh` on PATH is the built binary. Each block starts from what the earlier blocks left in
HOME; its background processes are stopped after it. At the end every node it started is
stopped (console `stop`, then SIGTERM) and every mesh brought down.
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PAYMESH_BIN", os.path.join(ROOT, ".build", "debug", "paymesh"))
COMMAND_LANGUAGES = {"", "sh", "bash", "shell"}
DEFAULT_TIMEOUT = 90
MARKER = "readme-test"


class Failure(Exception):
    pass


class Block:
    def __init__(self, line, language, commands, marker):
        self.line = line            # README line of the opening fence
        self.language = language
        self.commands = commands    # [(README line, command text)]
        self.marker = marker        # None, ("skip", reason) or ("steps", [directive lines])


def parse_readme(text):
    """The command blocks of the README with the marker comment before each."""
    lines = text.split("\n")
    blocks, i, pending = [], 0, None
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("<!--") and MARKER in stripped:
            body = [stripped]
            while "-->" not in body[-1] and i + 1 < len(lines):
                i += 1
                body.append(lines[i].strip())
            pending = parse_marker("\n".join(body), i + 1)
            i += 1
            continue
        m = re.match(r"^```(\S*)\s*$", line)
        if m:
            language, start = m.group(1), i + 1
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append((i + 1, lines[i]))
                i += 1
            if language in COMMAND_LANGUAGES:
                blocks.append(Block(start, language, commands_of(body), pending))
            pending = None
            i += 1
            continue
        if stripped:
            pending = None  # a marker applies only to the block right after it
        i += 1
    return blocks


def parse_marker(text, line):
    inner = text.replace("<!--", "", 1).rsplit("-->", 1)[0].strip()
    assert inner.startswith(MARKER)
    rest = inner[len(MARKER):].strip()
    if rest.startswith(":"):
        rest = rest[1:].strip()
        if not rest.startswith("skip:"):
            raise Failure(f"README line {line}: a one-line marker is `<!-- readme-test: skip: REASON -->`")
        return ("skip", rest[len("skip:"):].strip())
    steps = [s for s in (l.strip() for l in rest.split("\n")) if s and not s.startswith("#")]
    return ("steps", steps)


def commands_of(body):
    commands, current, first = [], "", None
    for number, text in body:
        t = text.rstrip()
        if not current and (not t.strip() or t.strip().startswith("#")):
            continue
        if first is None:
            first = number
        if t.endswith("\\"):
            current += t[:-1] + " "
            continue
        commands.append((first, current + t))
        current, first = "", None
    if current:
        commands.append((first, current))
    return commands


class Step:
    def __init__(self, directive, command, readme_line):
        self.command = command
        self.readme_line = readme_line  # None for an extra command
        self.mode, self.expect, self.status, self.capture = "run", [], 0, []
        self.subs, self.env, self.stdin, self.timeout, self.cwd = [], {}, None, DEFAULT_TIMEOUT, None
        self.reason = None
        words = shlex.split(directive, comments=True)
        i = 0
        while i < len(words):
            w = words[i]
            arg = words[i + 1] if i + 1 < len(words) else None
            if w in ("run", "background"):
                self.mode = w
                i += 1
                continue
            if w == "skip":
                self.mode, self.reason = "skip", " ".join(words[i + 1:]) or "no reason given"
                break
            if arg is None:
                raise Failure(f"directive `{directive}`: {w} needs a value")
            if w == "expect":
                self.expect.append(arg)
            elif w == "status":
                self.status = int(arg)
            elif w == "capture":
                var, _, regex = arg.partition("=")
                self.capture.append((var, re.compile(regex)))
            elif w == "sub":
                if i + 2 >= len(words):
                    raise Failure(f"directive `{directive}`: sub needs OLD and NEW")
                self.subs.append((arg, words[i + 2]))
                i += 1
            elif w == "env":
                var, _, value = arg.partition("=")
                self.env[var] = value
            elif w == "stdin":
                self.stdin = arg + "\n"
            elif w == "timeout":
                self.timeout = float(arg)
            elif w == "cwd":
                self.cwd = ROOT if arg == "repo" else arg
            else:
                raise Failure(f"directive `{directive}`: unknown word {w}")
            i += 2
        for old, new in self.subs:
            if old not in self.command:
                raise Failure(f"`sub {old} …`: {old} is not in `{self.command}`")
            self.command = self.command.replace(old, new)


def steps_of(block):
    kind, directives = block.marker
    steps, commands = [], list(block.commands)
    for d in directives:
        if d.startswith("+"):
            directive, sep, command = d[1:].partition(" -- ")
            if not sep:
                raise Failure(f"README line {block.line}: an extra command is `+ DIRECTIVE -- COMMAND`: {d}")
            steps.append(Step(directive, command.strip(), None))
            continue
        if not commands:
            raise Failure(f"README block at line {block.line}: more directives than commands (`{d}`)")
        line, command = commands.pop(0)
        steps.append(Step(d, command, line))
    if commands:
        raise Failure(f"README block at line {block.line}: no directive for `{commands[0][1]}` (line {commands[0][0]}); "
                      "add one to the <!-- readme-test … --> marker before the block")
    return steps


class Runner:
    def __init__(self, scratch):
        self.scratch = scratch
        self.home = os.path.join(scratch, "home")
        os.makedirs(self.home)
        bindir = os.path.join(scratch, "bin")
        os.makedirs(bindir)
        os.symlink(BIN, os.path.join(bindir, "paymesh"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMESH_")}
        self.env.update(HOME=self.home, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                        PAYMESH_MESH_DIR=os.path.join(self.home, "mesh"))
        self.background = []   # (process, log path)
        self.data_dirs = set()

    def run_block(self, block):
        variables = {}
        try:
            for step in steps_of(block):
                self.run_step(step, variables)
        finally:
            self.stop_background()

    def run_step(self, step, variables):
        where = f"README line {step.readme_line}" if step.readme_line else "extra command"
        if step.mode == "skip":
            print(f"  skip  {step.command}\n        ({step.reason})")
            return
        env = dict(self.env, **variables)
        env.update({k: expand(v, env) for k, v in step.env.items()})
        cwd = step.cwd or self.home
        self.note_data_dirs(step.command, env)
        started = time.monotonic()
        if step.mode == "background":
            output = self.start_background(step, env, cwd, where)
        else:
            try:
                p = subprocess.run(["bash", "-c", step.command], cwd=cwd, env=env, input=step.stdin or "",
                                   capture_output=True, text=True, timeout=step.timeout)
            except subprocess.TimeoutExpired:
                raise Failure(f"{where}: `{step.command}` did not finish in {step.timeout:.0f} s")
            output = p.stdout + p.stderr
            if p.returncode != step.status:
                raise Failure(f"{where}: `{step.command}` exited {p.returncode}, expected {step.status}\n{indent(output)}")
            missing = [e for e in step.expect if e not in output]
            if missing:
                raise Failure(f"{where}: `{step.command}` printed no {missing[0]!r}\n{indent(output)}")
        for var, regex in step.capture:
            m = regex.search(output)
            if not m:
                raise Failure(f"{where}: `{step.command}`: nothing matches {regex.pattern!r} for ${var}\n{indent(output)}")
            variables[var] = m.group(1) if m.groups() else m.group(0)
        print(f"  ok    {step.command}  ({time.monotonic() - started:.1f} s)")

    def start_background(self, step, env, cwd, where):
        log = os.path.join(self.scratch, f"background-{len(self.background)}.log")
        out = open(log, "wb")
        p = subprocess.Popen(["bash", "-c", "exec " + step.command], cwd=cwd, env=env, stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.background.append((p, log))
        deadline = time.monotonic() + step.timeout
        while True:
            with open(log, errors="replace") as f:
                output = f.read()
            if all(e in output for e in step.expect):
                return output
            if p.poll() is not None:
                raise Failure(f"{where}: `{step.command}` exited {p.returncode} before printing {step.expect}\n{indent(output)}")
            if time.monotonic() > deadline:
                raise Failure(f"{where}: `{step.command}` printed no {step.expect} in {step.timeout:.0f} s\n{indent(output)}")
            time.sleep(0.1)

    def note_data_dirs(self, command, env):
        """Data directories of nodes this command may start, to stop them at the end."""
        if " start" not in command:
            return
        m = re.search(r"--data-dir[ =](\S+)", command)
        path = m.group(1) if m else env.get("PAYMESH_DATA_DIR", "~/.paymesh")
        self.data_dirs.add(expand(path, env))

    def stop_background(self):
        for p, _ in self.background:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p, _ in self.background:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.background = []

    def clean_up(self):
        self.stop_background()
        if os.path.exists(os.path.join(self.env["PAYMESH_MESH_DIR"], "mesh.json")):
            subprocess.run([BIN, "mesh", "down"], env=self.env, cwd=self.home, capture_output=True, timeout=60)
        for d in self.data_dirs:
            if os.path.exists(os.path.join(d, "console.sock")):
                subprocess.run([BIN, "ctl", "--data-dir", d, "stop"], env=self.env, capture_output=True, timeout=30)


def expand(text, env):
    """`~` and `$VAR`/`${VAR}` of `text` with the commands' environment (not this process's)."""
    if text.startswith("~"):
        text = env["HOME"] + text[1:]
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), ""), text)


def indent(text, limit=4000):
    text = text if len(text) <= limit else text[:limit] + "\n…"
    return "\n".join("        | " + l for l in text.rstrip().split("\n"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    parser.add_argument("--list", action="store_true", help="show the blocks and what would run, run nothing")
    args = parser.parse_args()
    with open(args.readme) as f:
        blocks = parse_readme(f.read())
    unmarked = [b for b in blocks if b.marker is None]
    if unmarked:
        for b in unmarked:
            print(f"README line {b.line}: a command block without a <!-- readme-test … --> marker "
                  f"(first command: `{b.commands[0][1] if b.commands else ''}`); see {os.path.relpath(__file__, ROOT)}")
        return 1
    for b in blocks:
        if b.marker[0] == "steps":
            steps_of(b)  # every directive parses and matches its command before anything runs
    if args.list:
        for b in blocks:
            print(f"line {b.line}: " + ("skip: " + b.marker[1] if b.marker[0] == "skip" else
                                        f"{len(steps_of(b))} steps"))
        return 0
    if not os.access(BIN, os.X_OK):
        print(f"no paymesh binary at {BIN}: build it first (swift build)")
        return 1
    scratch = tempfile.mkdtemp(prefix="paymesh-readme-")
    runner = Runner(scratch)
    began, ran, skipped = time.monotonic(), 0, 0
    try:
        for b in blocks:
            if b.marker[0] == "skip":
                print(f"README line {b.line}: skipped block ({b.marker[1]})")
                skipped += 1
                continue
            print(f"README line {b.line}:")
            runner.run_block(b)
            ran += 1
    except Failure as failure:
        print(f"FAILED: {failure}\n(scratch directory kept: {scratch})")
        runner.clean_up()
        return 1
    runner.clean_up()
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"README commands: {ran} blocks run, {skipped} skipped, {time.monotonic() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
