#!/usr/bin/env python3
"""Run a command inside a pseudo-terminal and answer its prompts.

Used by __test__/helpers/pty.js (run with the project .venv's python, which has pexpect).
The pty becomes the child's controlling terminal (pexpect does setsid + TIOCSCTTY), so a
program that opens /dev/tty to read an MFA code reads what we type here.

Input: one JSON object on stdin:
  {
    "cmd": ["prog", "arg", ...],        # required
    "env": {...} | null,                # full environment for the child (null: inherit)
    "cwd": "/path" | null,
    "prompt": "MFA token for \\S+ \\(profile [^)]+\\): ",   # Python regex, searched in the pty output
    "answers": ["000000", "123456"],    # typed in order, one per prompt (followed by Enter)
    "timeout": 60.0,                    # overall seconds
    "answer_delay": 0.0,                # seconds to wait after a prompt before typing
    "on_extra_prompt": "eof",           # prompt after answers ran out: "eof" (send ^D),
                                        # "wait" (type nothing), "kill" (terminate the child)
    "rows": 40, "cols": 200
  }
Output: one JSON object on stdout:
  {"exitCode": int|null, "signal": int|null, "timedOut": bool, "prompts": int,
   "answered": int, "promptTexts": [..], "transcript": "...", "error": str|null}
"""
import io
import json
import re
import sys
import time

import pexpect


def main() -> int:
    spec = json.load(sys.stdin)
    cmd = spec["cmd"]
    prompt = re.compile(spec.get("prompt") or r"MFA token for \S+ \(profile [^)]+\): ")
    answers = list(spec.get("answers") or [])
    timeout = float(spec.get("timeout") or 60)
    answer_delay = float(spec.get("answer_delay") or 0)
    on_extra = spec.get("on_extra_prompt") or "eof"

    transcript = io.StringIO()
    result = {
        "exitCode": None,
        "signal": None,
        "timedOut": False,
        "prompts": 0,
        "answered": 0,
        "promptTexts": [],
        "transcript": "",
        "error": None,
    }
    deadline = time.monotonic() + timeout
    child = None
    try:
        child = pexpect.spawn(
            cmd[0],
            cmd[1:],
            env=spec.get("env"),
            cwd=spec.get("cwd"),
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(int(spec.get("rows") or 40), int(spec.get("cols") or 200)),
            echo=True,
        )
        child.logfile_read = transcript
        patterns = [prompt, pexpect.EOF, pexpect.TIMEOUT]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result["timedOut"] = True
                break
            i = child.expect(patterns, timeout=remaining)
            if i == 0:
                result["prompts"] += 1
                result["promptTexts"].append(child.after)
                if answers:
                    if answer_delay:
                        time.sleep(answer_delay)
                    answer = answers.pop(0)
                    if answer.startswith("\x03"):
                        child.send(answer)  # raw control byte (Ctrl-C), no Enter
                    else:
                        child.sendline(answer)
                    result["answered"] += 1
                elif on_extra == "eof":
                    child.sendeof()
                elif on_extra == "kill":
                    child.terminate(force=True)
                    break
                # "wait": type nothing, keep reading
            elif i == 1:
                break
            else:
                result["timedOut"] = True
                break
    except Exception as e:  # spawn failure (ENOENT, ...) or pexpect error
        result["error"] = f"{type(e).__name__}: {e}"
    finally:
        if child is not None:
            if result["timedOut"] and child.isalive():
                child.terminate(force=True)
            try:
                # drain what is left so the transcript is complete
                if not child.closed:
                    try:
                        child.expect(pexpect.EOF, timeout=2)
                    except Exception:
                        pass
                child.close(force=True)
            except Exception:
                pass
            result["exitCode"] = child.exitstatus
            result["signal"] = child.signalstatus
        result["transcript"] = transcript.getvalue()

    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
