"""The suite as a pytest plugin, loaded by any repository that installs the package (entry point
`pytest11: dsa`):

    pytest --dsa-variant SPEC [--dsa-convention NAME] [--dsa-forward-mode M] [--dsa-profile P] [--dsa-tier per-pr|nightly]

collects the gate's rows against the variant, one test item per row and law, ids naming both
(`dsa[draft-extend]::laws::padding_untouched`), from any directory. A module named alone with
`--dsa-convention sglang` (or a fetched release, `sglang==0.5.23`) is gated in every forward mode it
has an entry point of. Without `--dsa-variant` nothing is collected and nothing is imported.

- per-pr: deterministic (derandomized, the same cases every run), so a failure belongs to the change:
  the pinned edge examples, the member examples, the upstream bugs' cases (properties.upstream) and
  `--dsa-max-examples` generated cases (default 10) per row, in the rows a GPU runner can decide in
  a minute: values, laws, inputs, outside-view, state, engine-replay, graph-resident, static-width,
  and on a GPU no-sync and streams.
- nightly: every row with `--dsa-max-examples` (default 200) cases, the sanitizers, compile counts,
  the tables past 2^31 cells and the speed row against `--dsa-baseline`, then a seeded campaign over
  the example database (`--dsa-database DIR|redis://...`), which says what it found that the last
  run had not.

Every run of the plugin also prints a failure's test id the moment it fails and, with
`--dsa-junit-live FILE`, keeps a JUnit file that holds every result so far: a run cut off by its
job's time limit still names what failed.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

TIERS = ("per-pr", "nightly")
PER_PR_ROWS = ("values", "laws", "inputs", "outside-view", "state", "engine-replay", "graph-resident", "static-width", "no-sync", "streams")
EXAMPLES = {"per-pr": 10, "nightly": 200}


def pytest_addoption(parser):
    group = parser.getgroup("dsa", "DSA replay metadata: gate a variant from any repository")
    group.addoption("--dsa-variant", metavar="SPEC", help="the implementation gated: MODULE:CALLABLE, path/to/file.py[:CALLABLE], or sglang==VERSION[:kpool][:MODE]")
    group.addoption("--dsa-convention", default="contract", metavar="NAME", help="how it is called (properties/conventions.py; sglang: each of SGLang's kernels through its own mode's)")
    group.addoption("--dsa-forward-mode", metavar="MODE", help="decode, target-verify or draft-extend (default: the one the convention or the name implies)")
    group.addoption("--dsa-profile", metavar="P", help="the engine profile whose contract judges it (default sglang-dsa)")
    group.addoption("--dsa-tier", default="per-pr", choices=TIERS, help="per-pr (deterministic, bounded) or nightly (every row, the fuzz campaign)")
    group.addoption("--dsa-max-examples", type=int, metavar="N", help="generated cases per row (default: per-pr 10, nightly 200)")
    group.addoption("--dsa-baseline", metavar="SPEC", help="nightly: what the speed row compares with (default: the shipped kernel)")
    group.addoption("--dsa-database", metavar="DIR_OR_URL", help="nightly: the campaign's example database, a directory or redis://HOST:PORT/N")
    group.addoption("--dsa-reproducers", metavar="DIR", default="dsa-reproducers", help="where counterexamples go as JSON reproducers")
    group.addoption("--dsa-junit-live", metavar="FILE", help="a JUnit file rewritten as results come, so a run cut off still has them")


def pytest_configure(config):
    config.addinivalue_line("markers", "dsa_row(name): a row of the DSA gate")
    if config.getoption("--dsa-junit-live"):
        config.pluginmanager.register(LiveJunit(config.getoption("--dsa-junit-live")), "dsa-live-junit")


def pytest_collection_modifyitems(session, config, items):
    spec = config.getoption("--dsa-variant")
    if not spec:
        return
    items.extend(_collect(session, config, spec))


def _collect(session, config, spec: str) -> list:
    from properties.harness import BadVariant, entry_points, prepare_runtime

    # Before anything imports a kernel: without a GPU, Triton's interpreter is chosen as a
    # @triton.jit function is made.
    prepare_runtime()
    try:
        entries = entry_points(spec) or [(spec, config.getoption("--dsa-forward-mode"))]
    except BadVariant as error:
        raise pytest.UsageError(str(error)) from error
    tier = config.getoption("--dsa-tier")
    collected = []
    for one_spec, mode in entries:
        gated = GatedVariant(config, one_spec, mode)
        for row, law in gated.checks(tier):
            name = f"dsa[{gated.mode}]::{row}" + (f"::{law}" if law else "")
            collected.append(RowItem.from_parent(session, name=name, nodeid=name, gated=gated, row=row, law=law))
    return collected


class GatedVariant:
    """One variant in one forward mode, and the gate that judges it, built when a row first runs."""

    def __init__(self, config, spec: str, mode: str | None):
        from properties.harness import BadVariant, load_variant

        self.config, self.spec = config, spec
        convention = config.getoption("--dsa-convention")
        try:
            self.variant = load_variant(spec, convention, mode, config.getoption("--dsa-profile"))
        except BadVariant as error:
            raise pytest.UsageError(str(error)) from error
        self.mode = self.variant.forward_mode
        self._gate = None

    def checks(self, tier: str) -> list[tuple[str, str | None]]:
        """(row, law or None) of every item of the tier."""
        from properties.gate_rows import GRAPH_REPLAY, LAUNCH_ROWS, LAW_FAMILIES, ROWS
        from properties.laws import CONTRACT_LAWS, laws_of

        rows = [row.name for row in ROWS if tier == "nightly" or row.name in PER_PR_ROWS]
        out = []
        for row in rows:
            if row in LAW_FAMILIES:
                out += [(row, law.__name__) for law in laws_of(LAW_FAMILIES[row], self.mode)]
            elif row in LAUNCH_ROWS and self._declares(row):
                # A launch form's row is every contract law and a graph replay: one item each, so
                # that the longest item is one law's search, not all of them.
                out += [(row, law.__name__) for law in laws_of(CONTRACT_LAWS, self.mode)] + [(row, GRAPH_REPLAY)]
            else:
                out.append((row, None))
        out.append(("upstream-bugs", None))
        if tier == "nightly":
            out += [("past-int32", None), ("campaign", None)]
        return out

    def _declares(self, row: str) -> bool:
        """Whether the variant declares the launch form of `row` in its forward mode."""
        from properties.harness import LAUNCH_FORMS, in_launch_form

        return in_launch_form(self.variant, LAUNCH_FORMS[row], "sglang") is not None

    @property
    def gate(self):
        if self._gate is None:
            from pathlib import Path

            from properties.gate import Gate
            from properties.gate_rows import FAMILIES
            from properties.harness import prepare_runtime

            # The tables past 2^31 cells are an item of their own (past-int32), not the values row's.
            examples = self.config.getoption("--dsa-max-examples") or EXAMPLES[self.config.getoption("--dsa-tier")]
            self._gate = Gate(
                self.variant, prepare_runtime(), domain="sglang", required=FAMILIES, max_examples=examples,
                reproducers=Path(self.config.getoption("--dsa-reproducers")), baseline=self.config.getoption("--dsa-baseline"),
            )
        return self._gate


class RowFailed(Exception):
    pass


class RowItem(pytest.Item):
    def __init__(self, *, gated: GatedVariant, row: str, law: str | None, **kwargs):
        super().__init__(**kwargs)
        self.gated, self.row, self.law = gated, row, law
        self.add_marker(pytest.mark.dsa_row(row))

    def runtest(self):
        from properties.gate import FAIL, NOT_APPLICABLE, NOT_RUN

        if self.row == "upstream-bugs":
            return self._upstream()
        if self.row == "campaign":
            return self._campaign()
        if self.row == "past-int32":
            return self._past_int32()
        gate = self.gated.gate
        if self.law is not None:
            from properties.gate_rows import LAUNCH_ROWS

            launch_part = self.row in LAUNCH_ROWS
            status, detail = gate.launch_part(self.row, self.law) if launch_part else gate.law(self.row, self.law)
        else:
            from properties.gate_rows import ROW

            status, detail = getattr(gate, ROW[self.row].check)(self.row)
        if status == FAIL:
            raise RowFailed(detail)
        if status in (NOT_RUN, NOT_APPLICABLE):
            pytest.skip(f"{status}: {detail.splitlines()[0] if detail else ''}")

    def _upstream(self):
        from properties.upstream import UPSTREAM_BUGS

        from properties.past_int32 import NotEnoughMemory

        gate = self.gated.gate
        failed, not_run = [], []
        for bug in UPSTREAM_BUGS:
            if self.gated.mode not in bug.modes or (bug.tier == "gpu" and gate.device.type != "cuda"):
                continue
            try:
                bug.check({self.gated.mode: self.gated.variant.fill}, gate.device)
            except NotEnoughMemory as missing:
                not_run.append(f"{bug.name}: {missing}")
            except Exception as error:  # the bug is back: say which, and its threads
                failed.append(f"{bug.name} ({', '.join(bug.threads)}): {str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}")
        if failed:
            raise RowFailed("\n".join(failed + [f"not run: {line}" for line in not_run]))
        if not_run:
            pytest.skip("not run: " + "; ".join(not_run))

    def _past_int32(self):
        from properties.past_int32 import in_child

        if self.gated.gate.device.type != "cuda":
            pytest.skip("the tables past 2^31 cells need a CUDA device")
        variant = self.gated.variant
        code, said = in_child(variant.spec, variant.convention, variant.forward_mode)
        if code == 1:
            raise RowFailed(f"tables past 2^31 cells: {said}")
        if code == 2:
            pytest.skip(f"tables past 2^31 cells not run: {said}")

    def _campaign(self):
        from properties.campaign import run_campaign
        from properties.harness import HOST_SIZED

        database = self.config.getoption("--dsa-database")
        db = None
        if database:
            from properties.profiles import example_database

            db = example_database(database)
        gate = self.gated.gate
        _, failures = run_campaign(
            self.gated.variant, gate.device, max_examples=gate.budget.max_examples, minutes=None, seed_value=int(time.strftime("%Y%m%d")),
            database=db, on_failure=lambda failure: None, launch=HOST_SIZED, domain="sglang", shrink_seconds=30,
        )
        # What the last nightly run found, by fingerprint, beside its reproducers: this run says what is new.
        import json
        from pathlib import Path

        record = Path(self.config.getoption("--dsa-reproducers")) / f"nightly-{self.gated.mode}-found.json"
        known = set(map(tuple, json.loads(record.read_text()))) if record.is_file() else set()
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(sorted(list(f.fingerprint()) for f in failures)))
        new = [f for f in failures if f.fingerprint() not in known]
        gone = len(known - {f.fingerprint() for f in failures})
        # Said by the process that reports (pytest_runtest_logreport), which under xdist is not this one.
        self.user_properties.append(("dsa-nightly", f"dsa nightly campaign ({self.gated.mode}): {len(new)} failure(s) new since "
                                     f"the last run, {len(failures) - len(new)} seen before, {gone} not found again"))
        if failures:
            raise RowFailed("\n".join(
                f"{'NEW ' if f in new else ''}{f.law} on {f.case.summary()}: {f.message.splitlines()[0]}" for f in failures
            ))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, RowFailed):
            from properties.gate import clip_lines

            return clip_lines(str(excinfo.value))
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.gated.spec, None, self.name


# The exit status of a pytest-xdist worker that ends itself after a sticky CUDA fault.
FAULTED_WORKER_EXIT = 86
# Controller side: the workers whose last report was a sticky CUDA fault, by gateway id.
_FAULTED_WORKERS: set[str] = set()
# Worker side: this process's fault went to the controller in a failed test's report, so the
# controller reschedules the test this worker ends on (a fault a passing test raised did not).
_FAULT_REPORTED: list[bool] = []


def pytest_runtest_setup(item):
    """After a sticky CUDA fault this process's context fails every call (properties.faults;
    imported only where a test imported it). A pytest-xdist worker then ends itself before the next
    test, and the controller hands that test and the worker's queue to a fresh worker
    (`pytest_handlecrashitem`): a worker that only skipped would drain the whole queue. Without
    xdist, the later tests say why they do not run."""
    faults = sys.modules.get("properties.faults")
    if faults is None or (reason := faults.skip_reason(item.nodeid)) is None:
        return
    if hasattr(item.config, "workerinput") and _FAULT_REPORTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(FAULTED_WORKER_EXIT)
    pytest.skip(f"{reason} (under pytest-xdist, -n N, a fresh worker would run it)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that raised a sticky CUDA fault reports it with its case, rerun in a fresh process."""
    outcome = yield
    report = outcome.get_result()
    faults = sys.modules.get("properties.faults")
    fault = faults.first_fault() if faults is not None else None
    if report.when == "call" and report.failed and fault is not None and fault.where == item.nodeid:
        report.sections.append(("CUDA fault", f"{fault.headline()}\n{faults.confirm(fault, faults.DEFAULT_FAULT_CORPUS)}"))
        _FAULT_REPORTED.append(True)


def pytest_runtest_logreport(report):
    """A failure's test id the moment it fails, whatever the verbosity (-q prints only a letter), and
    what a nightly campaign found new."""
    worker = getattr(report, "node", None)  # set by pytest-xdist's controller
    if worker is not None and any(name == "CUDA fault" for name, _ in report.sections):
        _FAULTED_WORKERS.add(worker.gateway.id)
    terminal = _terminal()
    if terminal is not None and report.when == "call":
        for name, said in report.user_properties:
            if name == "dsa-nightly":
                terminal.write("\n")
                terminal.write_line(said)
    if report.failed and (report.when == "call" or report.when == "setup"):
        if terminal is not None:
            # After -q's progress letters, on a line of its own (ensure_newline knows only -v's lines).
            terminal.write("\n")
            terminal.write_line(f"FAILED {report.nodeid}" + ("" if report.when == "call" else f" ({report.when})"), red=True)


# How pytest_handlecrashitem's reports begin: another plugin's reruns keep their own words.
RESCHEDULED = "rescheduled: "


def _rescheduled(report) -> bool:
    """Whether `report` is one pytest_handlecrashitem made."""
    return report.outcome == "rerun" and str(report.longrepr).startswith(RESCHEDULED)


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem, report, sched):
    """A worker that ended itself after a sticky CUDA fault did not crash on `crashitem`: the test had
    not started. It runs again on the fresh worker that replaces this one."""
    worker = report.node.gateway.id
    if worker in _FAULTED_WORKERS:
        _FAULTED_WORKERS.discard(worker)
        sched.mark_test_pending(crashitem)
        report.outcome = "rerun"
        report.longrepr = f"{RESCHEDULED}worker {worker} ended itself after a CUDA fault left its context unusable"


@pytest.hookimpl(trylast=True, specname="pytest_runtest_logreport")
def pytest_runtest_logreport_rescheduled_junit(report):
    """pytest's JUnit writer opens a testcase for every report it is handed, and a rescheduled one
    matches none of its outcomes: the file would hold a nameless, empty testcase, which a CI reading
    it counts as a pass, beside the test's real one from its fresh worker. That entry is taken out
    again (pytest's writer is not public API: where it is laid out otherwise, the entry stays)."""
    if not (_CONFIG and _rescheduled(report)):
        return
    try:
        from _pytest.junitxml import xml_key

        xml = _CONFIG[0].stash.get(xml_key, None)
        if xml is None:
            return
        worker = getattr(report, "node", None)
        for key, reporter in list(xml.node_reporters.items()):
            if key[1] is worker and not reporter.attrs and not reporter.nodes and str(key[0]) == report.nodeid:
                del xml.node_reporters[key]
                xml.node_reporters_ordered.remove(reporter)
    except (ImportError, AttributeError, TypeError, ValueError):
        return


@pytest.hookimpl(optionalhook=True)
def pytest_testnodeready(node):
    # xdist gives a replacement worker its predecessor's id; the new one has raised nothing.
    _FAULTED_WORKERS.discard(node.gateway.id)


def pytest_report_teststatus(report, config):
    if _rescheduled(report):
        return "rescheduled", "R", "RESCHEDULED"
    return None


_CONFIG = []


def _terminal():
    return _CONFIG[0].pluginmanager.get_plugin("terminalreporter") if _CONFIG else None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    _CONFIG[:] = [session.config]


class LiveJunit:
    """A JUnit XML file rewritten with every result so far: at once after a failure, else at most
    once a second, and at the end."""

    def __init__(self, path: str):
        self.path, self.cases, self.written = path, [], 0.0

    def pytest_runtest_logreport(self, report):
        if report.when != "call" and not (report.failed or report.skipped):
            return
        self.cases.append(report)
        if report.failed or time.monotonic() - self.written > 1.0:
            self.write()

    def pytest_sessionfinish(self, session):
        self.write()

    def write(self):
        from xml.etree import ElementTree

        suite = ElementTree.Element("testsuite", name="pytest", tests=str(len(self.cases)))
        failures = skipped = 0
        for report in self.cases:
            module, _, name = report.nodeid.rpartition("::")
            case = ElementTree.SubElement(suite, "testcase", classname=module.replace("/", ".").removesuffix(".py"), name=name,
                                          time=f"{report.duration:.3f}")
            if report.failed:
                failures += 1
                ElementTree.SubElement(case, "failure", message=f"{report.when} failed").text = report.longreprtext[-20000:]
            elif report.skipped:
                skipped += 1
                ElementTree.SubElement(case, "skipped", message=str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else "")[:500])
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
        ElementTree.ElementTree(suite).write(self.path, encoding="utf-8", xml_declaration=True)
        self.written = time.monotonic()
