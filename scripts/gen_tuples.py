"""Prints the `tuple_model!` invocations of src/model.rs for arities 2..=12.

    python3 scripts/gen_tuples.py
"""


def entry(i):
    return f"(Y{i-1}, D{i-1}, L{i}, Y{i}, D{i}, {i}, {i-1})"


for n in range(2, 13):
    middle = [entry(i) for i in range(1, n - 1)]
    last = n - 1
    print("tuple_model! {")
    print("    first = (L0, Y0, D0);")
    print(f"    middle = [{', '.join(middle)}];")
    print(f"    reversed = [{', '.join(reversed(middle))}];")
    print(f"    last = (Y{last-1}, D{last-1}, L{last}, Y{last}, {last}, {last-1});")
    # For each layer but the last, the layer after it and that layer's output buffer.
    print(f"    next = [{', '.join(f'({i}, Y{i})' for i in range(1, n))}];")
    print("}")
