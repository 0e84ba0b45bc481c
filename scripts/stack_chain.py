#!/usr/bin/env python3
"""The deepest stack of a function in a binary: its frame plus the deepest chain of frames it calls.

README's `nostd-check` stack column. Build the binary with frame sizes recorded (nightly Rust):

    RUSTFLAGS="-Z emit-stack-sizes" cargo +nightly build --profile nostd -p nostd-check --target-dir target/stack
    python3 scripts/stack_chain.py target/stack/nostd/nostd-check '^main$' classify

For each function whose (mangled) name matches a pattern it prints the total in bytes and the
frames of the chain. Frames come from `llvm-readobj --stack-sizes`, calls from the direct `call`
and tail `jmp` instructions of `objdump -d` (no_std inference makes no indirect calls; a function
without a recorded size, such as `memcpy`, counts 0). Not used by CI.
"""
import functools
import re
import subprocess
import sys


def main(binary, patterns):
    readobj = subprocess.run(["llvm-readobj", "--stack-sizes", binary], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for names, size in re.findall(r"Functions: \[(.*?)\]\s*Size: (0x[0-9A-Fa-f]+)", readobj):
        for name in names.split(", "):
            sizes[name] = int(size, 16)
    disassembly = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True, check=True).stdout
    calls, current = {}, None
    for line in disassembly.splitlines():
        label = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if label:
            current = label.group(1)
            calls.setdefault(current, set())
            continue
        # A call or jump to another function's start (a jump inside a function has an offset).
        target = re.search(r"\s(call|jmp)\s+[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>", line)
        if target and current and target.group(2) != current and not target.group(3):
            calls[current].add(target.group(2))

    sys.setrecursionlimit(10000)

    @functools.lru_cache(None)
    def deepest(function):
        total, chain = 0, ()
        for callee in calls.get(function, ()):
            t, c = deepest(callee)
            if t > total:
                total, chain = t, c
        return sizes.get(function, 0) + total, (function,) + chain

    for pattern in patterns:
        for function in sorted(calls):
            if re.search(pattern, function):
                total, chain = deepest(function)
                print(total, " -> ".join(str(sizes.get(f, 0)) for f in chain), function[:120])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
