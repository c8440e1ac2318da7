"""The mutation hunt: the suite against every planted-defect variant of a forward mode, with the
shipped kernel and the reference as controls that must survive."""

from __future__ import annotations

import os
import sys

from properties.options import budget_parent, forward_mode_parent, names, profile_parent, shrink_parent
from properties.harness import REFERENCES, SHIPPED_KERNELS, hyphenated, prepare_runtime
from reference.engines import DEFAULT_PROFILE
from reference.modes import DEFAULT_FORWARD_MODE, FORWARD_MODES

# --controls: the controls each choice keeps, by the name the report gives them, and their spec in a forward mode.
CONTROLS = {
    "all": {"(shipped kernel)": SHIPPED_KERNELS, "(reference)": REFERENCES},
    "reference": {"(reference)": REFERENCES},
    "none": {},
}


def _every_mutant() -> tuple[str, ...]:
    from properties.mutants import mutants_of

    return tuple(dict.fromkeys(name for mode in FORWARD_MODES for name in mutants_of(mode)))


def add(commands) -> None:
    mut = commands.add_parser(
        "mutants", help="run the suite against every planted-defect variant",
        parents=[
            forward_mode_parent(help_text=f"the forward mode whose mutants are hunted, by its contract (default: {DEFAULT_FORWARD_MODE})"),
            profile_parent(f"the engine profile whose contract judges every mutant (default: the one each mutant declares, else {DEFAULT_PROFILE})"),
            budget_parent(30, "generated cases per law"), shrink_parent(20.0),
        ],
    )
    mut.add_argument("--only", type=names(_every_mutant, "mutant"), metavar="NAME,...", help="only these mutants of the forward mode")
    mut.add_argument("--workers", type=int, help="processes on the CPU (default: the cores, at most 8)")
    mut.add_argument(
        "--controls", choices=CONTROLS, default="all",
        help="which of the shipped kernel and the reference must survive too: "
        + "; ".join(f"{choice}: {', '.join(kept) or 'neither'}" for choice, kept in CONTROLS.items()) + " (default: all)",
    )
    mut.set_defaults(handler=mutants)


def mutants(args) -> int:
    from properties.mutants import mutants_of
    from properties.mutation import hunt_all, table

    mode = args.forward_mode or DEFAULT_FORWARD_MODE
    elsewhere = [name for name in args.only or () if name not in mutants_of(mode)]
    if elsewhere:
        # Dropped silently, they would leave a run that hunts nothing and passes.
        print(f"not mutants of the {mode} mode: {', '.join(elsewhere)} (--forward-mode picks the mode)", file=sys.stderr)
        return 2
    prepare_runtime()
    chosen = {name: spec for name, spec in mutants_of(mode).items() if not args.only or name in args.only}
    controls = {name: specs[mode] for name, specs in CONTROLS[args.controls].items()}
    names = {spec: name for name, spec in {**chosen, **controls}.items()}
    workers = args.workers or min(os.cpu_count() or 1, 8)
    specs = list(chosen.values()) + list(controls.values())
    hunts = []
    # Each verdict is said as it is reached, so a run stopped by a time box has still reported it.
    print(f"mutants of the {mode} mode", file=sys.stderr, flush=True)
    for h in hunt_all(specs, workers=workers, max_examples=args.max_examples, shrink_seconds=args.shrink_seconds, forward_mode=mode, profile=args.profile):
        hunts.append(h)
        control = h.spec in controls.values()
        verdict = f"killed by {h.law} ({hyphenated(h.launch)}) on {h.size}" if h.killed else h.skipped or ("survived, as a control must" if control else "SURVIVED")
        print(f"[{len(hunts)}/{len(specs)}] {names[h.spec]}: {verdict}, {h.seconds:.1f}s", file=sys.stderr, flush=True)
    print(table(hunts, names))
    survivors = [h for h in hunts if not h.killed and not h.skipped and h.spec not in controls.values()]
    broken_controls = [h for h in hunts if h.killed and h.spec in controls.values()]
    killed = sum(h.killed for h in hunts if h.spec in chosen.values())
    skipped = sum(bool(h.skipped) for h in hunts if h.spec in chosen.values())
    elsewhere = f" ({skipped} shown only by a GPU family: not applicable on this tier)" if skipped else ""
    print(f"\n{killed}/{len(chosen) - skipped} mutants killed{elsewhere}")
    for h in broken_controls:
        print(f"CONTROL FAILED: {names[h.spec]} broke {h.law}:\n{h.message}")
    for h in survivors:
        print(f"SURVIVOR: {names[h.spec]}")
    return 1 if survivors or broken_controls else 0
