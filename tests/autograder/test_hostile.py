"""Hostile submissions: each is graded without crashing the batch, raising no score, with a reason.

Every case is the blank release of notebook 1 (worth zero) or its solution (full marks),
with one hostile cell added; the whole set is graded once, two workers at a time.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
import pytest

from autograder.grading import NotebookResult
from autograder.grading.batch import Job, grade_many
from autograder.nb.course import ROOT, Assignment, assignments, is_answer, is_test, nbgrader_meta, read
from autograder.sandbox.limits import Limits

ASSIGNMENT: Assignment = assignments()[0]
MARKER = "dlf-hostile-marker"

HOSTILE: dict[str, str] = {
    "infinite_loop": "while True:\n    pass",
    "os_exit": "import os\nos._exit(3)",
    "segfault": "import ctypes\nctypes.string_at(0)",
    "memory_bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(256 * 1024**2))",
    "fork_bomb": (
        "import os, time\nkids = 0\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n"
        "            time.sleep(60)\n            os._exit(0)\n        kids += 1\n    except OSError:\n"
        "        break\nprint('forked', kids)"),
    "sys_exit": "import sys\nsys.exit(0)",
    "input": "name = input('who are you? ')",
    "print_flood": "for i in range(200_000):\n    print('line', i)",
    "read_solutions": (
        f"import pathlib\nsrc = pathlib.Path({str(ROOT / 'solutions')!r})\n"
        "print('SEEN', sorted(p.name for p in src.rglob('*.ipynb')))"),
    "read_gradebook": (
        f"print('SEEN', open({str(ROOT / 'course' / 'nbgrader_config.py')!r}).read()[:50])"),
    "write_gradebook": (
        f"open({str(ROOT / 'course' / 'gradebook.db')!r}, 'w').write('overwritten')"),
    "setsid_background": (
        "import subprocess\nsubprocess.Popen(['sleep', '300', '" + MARKER + "'], "
        "start_new_session=True)\nsubprocess.Popen('(sleep 300; echo " + MARKER + ") &', shell=True,"
        " start_new_session=True)"),
    "patch_numpy": (
        "import numpy as np, numpy.testing\nnp.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda *a, **k: np.array(True)\nnp.array_equal = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None"),
    "patch_builtins": (
        "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.float = lambda *a: 1.0\n"
        "builtins.AssertionError = type('Nope', (Exception,), {})"),
    "patch_check_library": (
        "import autograder.checks as c, autograder.checks.judge as j\n"
        "c.check = lambda *a, **k: None\n"
        "j.judge_cases = lambda **k: j.Verdict(k['check_id'], '', True, 'ok')\n"
        "c.student_verdict = lambda data, obs: j.Verdict(data.id, '', True, 'ok')"),
    "lying_eq": (
        "class Liar:\n    def __eq__(self, other): return True\n    def __float__(self): return 0.0\n"
        "    def __array__(self, dtype=None, copy=None):\n        import numpy; return numpy.zeros(1)\n"
        "import sys\nmodule = sys.modules['__main__']\n"
        "for name in list(vars(module)):\n    pass\n"),
}


def _with_hostile_cell(nb: nbformat.NotebookNode, code: str, *, before_last_test: bool = False) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(code)
    if before_last_test:
        index = max(i for i, c in enumerate(nb.cells) if is_test(c))
    else:
        index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code") + 1
    nb.cells.insert(index, cell)
    return nb


def _cases(tmp: Path) -> dict[str, Path]:
    release = read(ASSIGNMENT.release)
    solution = read(ASSIGNMENT.source)
    out: dict[str, Path] = {}

    def save(name: str, nb: nbformat.NotebookNode | str) -> None:
        folder = tmp / name / ASSIGNMENT.name
        folder.mkdir(parents=True)
        path = folder / f"{ASSIGNMENT.name}.ipynb"
        if isinstance(nb, str):
            path.write_text(nb)
        else:
            nbformat.write(nb, str(path))
        out[name] = path

    for name, code in HOSTILE.items():
        save(name, _with_hostile_cell(release, code))
    lying = copy.deepcopy(release)
    for cell in lying.cells:  # every answer becomes an object that claims to equal anything
        if is_answer(cell):
            names = [ln.split("(")[0][4:] for ln in cell.source.splitlines() if ln.startswith("def ")]
            names += [ln.split("=")[0].strip() for ln in cell.source.splitlines()
                      if "=" in ln and not ln.startswith((" ", "#"))]
            cell.source = HOSTILE["lying_eq"] + "\n".join(f"{n} = Liar()" for n in names if n.isidentifier())
    save("lying_answers", lying)
    save("dies_before_last_test", _with_hostile_cell(solution, "import os\nos._exit(1)", before_last_test=True))
    tampered = copy.deepcopy(release)
    for cell in tampered.cells:
        if is_test(cell):
            cell.source = "pass"
            cell.metadata["nbgrader"]["points"] = 1000
    save("tests_edited_points_raised", tampered)
    deleted = copy.deepcopy(release)
    deleted.cells = [c for c in deleted.cells if not is_test(c)]
    save("tests_deleted", deleted)
    duplicated = copy.deepcopy(release)
    copies = [copy.deepcopy(c) for c in duplicated.cells if is_test(c)]
    for n, cell in enumerate(copies):
        cell["id"] = f"copy-{n}"
    duplicated.cells = duplicated.cells + copies
    save("tests_duplicated", duplicated)
    retyped = copy.deepcopy(release)
    for cell in retyped.cells:
        if is_test(cell):
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    save("tests_retyped", retyped)
    renamed = copy.deepcopy(release)
    for cell in renamed.cells:
        if is_test(cell):
            cell.metadata["nbgrader"]["grade_id"] += "_mine"
            cell.source = "pass"
    save("grade_ids_edited", renamed)
    save("malformed_json", '{"cells": [ this is not json')
    v3 = release.copy()
    save("nbformat_3", nbformat.writes(nbformat.convert(v3, 3)))
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NotebookResult]:
    cases = _cases(tmp_path_factory.mktemp("hostile"))
    limits = Limits(cell_timeout=3.0, notebook_timeout=40.0, memory_bytes=1024**3)
    jobs = [Job(ASSIGNMENT.source, path, name, limits) for name, path in cases.items()]
    return dict(zip(cases, grade_many(jobs, workers=2), strict=True))


def _auto_points(result: NotebookResult) -> float:
    return sum(i.points or 0.0 for i in result.items if i.kind == "autograded")


@pytest.mark.parametrize("name", [*HOSTILE, "lying_answers", "tests_edited_points_raised",
                                  "tests_deleted", "tests_duplicated", "tests_retyped",
                                  "grade_ids_edited", "malformed_json", "nbformat_3"])
def test_hostile_submission_earns_nothing_and_gets_a_row(results: dict[str, NotebookResult],
                                                        name: str) -> None:
    result = results[name]
    assert result.items, "every submission yields one row per graded item"
    assert _auto_points(result) == 0, {i.grade_id: i.points for i in result.items if i.points}
    assert result.max_score == sum(float(nbgrader_meta(c).get("points", 0))
                                   for c in read(ASSIGNMENT.source).cells
                                   if nbgrader_meta(c).get("grade")), "points come from the source"
    reasons = [*result.problems, *(m for i in result.items for m in i.messages)]
    assert reasons, "a reason is given"


@pytest.mark.parametrize(("name", "reason"), [
    ("infinite_loop", "longer than"), ("os_exit", "exited"), ("segfault", "segmentation"),
    ("malformed_json", "could not be read"),
])
def test_the_reason_names_what_happened(results: dict[str, NotebookResult], name: str, reason: str) -> None:
    text = " ".join([*results[name].problems, *(m for i in results[name].items for m in i.messages)])
    assert reason in text


def test_a_kernel_that_dies_keeps_the_scores_of_cells_already_run(
        results: dict[str, NotebookResult]) -> None:
    result = results["dies_before_last_test"]
    auto = [i for i in result.items if i.kind == "autograded"]
    assert sum(i.points or 0 for i in auto[:-1]) > 0.8 * sum(i.max_points for i in auto[:-1])
    assert auto[-1].points == 0 and result.problems


@pytest.mark.parametrize("name", ["read_solutions", "read_gradebook"])
def test_the_course_folders_are_invisible(results: dict[str, NotebookResult], name: str) -> None:
    nb = results[name].notebook
    assert nb is not None
    text = "".join(o.get("text", "") + o.get("evalue", "") for c in nb.cells
                   if c.cell_type == "code" for o in c.get("outputs", []))
    seen = [line for line in text.splitlines() if line.startswith("SEEN")]
    assert seen in ([], ["SEEN []"]), seen


def test_the_gradebook_was_not_written() -> None:
    gradebook = ROOT / "course" / "gradebook.db"
    assert not gradebook.exists() or gradebook.read_bytes()[:11] != b"overwritten"


def test_no_process_outlives_its_submission(results: dict[str, NotebookResult]) -> None:
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if MARKER.encode() in (entry / "cmdline").read_bytes():
                    leftovers.append(entry.name)
            except OSError:
                continue
    assert not leftovers, f"processes left running: {leftovers}"
    assert os.getpid()


def test_the_fork_bomb_was_bounded(results: dict[str, NotebookResult]) -> None:
    nb = results["fork_bomb"].notebook
    assert nb is not None
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    forked = int(printed.split("forked")[1].split()[0]) if "forked" in printed else 0
    if "process cap (cgroup)" in results["fork_bomb"].isolation:
        assert forked <= Limits().max_processes
    assert forked < 500 or results["fork_bomb"].problems


def test_a_plain_nbgrader_test_cell_scores_by_whether_it_raises(tmp_path: Path) -> None:
    from autograder.authoring import code, notebook, tests, write
    from autograder.grading import grade_notebook

    source = tmp_path / "00_plain" / "00_plain.ipynb"
    write(notebook([code("x = 1"), tests("test_ok", 1, "assert x == 1"),
                    tests("test_bad", 2, "assert x == 2")]), source)
    result = grade_notebook(source, source)
    assert result.item("test_ok").points == 1
    assert result.item("test_bad").points == 0 and "AssertionError" in result.item("test_bad").messages[0]


# --- issue 9: attacks on the grader, its files and the other submissions, through `dlf grade` ---
#
# One class is graded by `dlf grade --workers 2` exactly as an instructor would: attackers and
# honest bystanders side by side. Attackers start from the blank release, so anything they
# earn is something they did not implement.

ATTACKS: dict[str, str] = {
    # Rewrite the grader's installed files, including a .pth file the venv would run later.
    "a_rewrites_grader_files": (
        "import os, sys, numpy, autograder.checks.channel as r\n"
        "site = os.path.dirname(os.path.dirname(numpy.__file__))\n"
        "view_specs = os.path.join(os.path.dirname(os.path.dirname(r.__file__)), 'specs', 'nb01.py')\n"
        f"targets = [{str(ROOT / 'autograder' / 'specs' / 'nb01.py')!r}, view_specs,\n"
        "           os.path.join(site, 'dlf_hostile.pth'), os.path.join(sys.prefix, 'dlf_hostile.pth'),\n"
        f"           {str(ROOT / 'reference_impl' / '__init__.py')!r}]\n"
        "for t in targets:\n"
        "    try:\n"
        "        with open(t, 'a') as fh:\n"
        "            fh.write('\\nimport os; os.system(\"touch /tmp/dlf-hostile-pth-ran\")\\n')\n"
        "        print('WROTE', t)\n"
        "    except OSError as exc:\n"
        "        print('REFUSED', t, exc.strerror)\n"
        f"os.makedirs({str(ROOT / 'autograder' / 'specs')!r}, exist_ok=True)\n"),
    # Append failing records to every other sandbox's channel it can find, for a few seconds.
    "a_appends_to_other_channels": (
        "import glob, json, os, time\n"
        "bad = [json.dumps({'e': 'record', 'id': '01.count_parameters', 'hidden': h, 'cell': c,\n"
        "                   'obs': [['error', 'NotImplementedError: sabotage']]}) for h in (False, True)\n"
        "       for c in range(80)]\n"
        "payload = ('\\n'.join(bad) + '\\n').encode()\n"
        "hits = set()\n"
        "deadline = time.time() + 8\n"
        "while time.time() < deadline:\n"
        "    for path in glob.glob('/tmp/dlf-scratch-*/records.jsonl') + glob.glob('/tmp/*/records.jsonl'):\n"
        "        try:\n"
        "            with open(path, 'ab') as fh:\n"
        "                fh.write(payload)\n"
        "            hits.add(path)\n"
        "        except OSError:\n"
        "            pass\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if not pid.isdigit() or int(pid) == os.getpid():\n"
        "            continue\n"
        "        try:\n"
        "            fds = os.listdir(f'/proc/{pid}/fd')\n"
        "        except OSError:\n"
        "            continue\n"
        "        for fd in fds:\n"
        "            try:\n"
        "                if os.readlink(f'/proc/{pid}/fd/{fd}').startswith('pipe:'):\n"
        "                    out = os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)\n"
        "                    os.write(out, payload)\n"
        "                    hits.add((pid, fd))\n"
        "            except OSError:\n"
        "                pass\n"
        "    time.sleep(0.05)\n"
        "print('HITS', sorted(map(str, hits)))\n"),
    # Silence the real channel, then write the records it wants, claiming test cells' numbers.
    "a_silences_and_forges": (
        "import json, os\n"
        "pipes = []\n"
        "for f in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        if os.readlink(f'/proc/self/fd/{f}').startswith('pipe:'):\n"
        "            pipes.append(int(f))\n"
        "    except OSError:\n"
        "        pass\n"
        "keep = {fd: os.dup(fd) for fd in pipes}\n"
        "devnull = os.open(os.devnull, os.O_WRONLY)\n"
        "for fd in pipes:\n"
        "    os.dup2(devnull, fd)\n"
        "for fd in keep.values():\n"
        "    for cell in range(80):\n"
        "        for hidden in (False, True):\n"
        "            os.write(fd, (json.dumps({'id': '01.count_parameters', 'hidden': hidden, 'cell': cell,\n"
        "                                      'obs': [['ok', 104938]]}) + '\\n').encode())\n"),
    # Redefine check so that each test cell writes extra, made-up records next to the real ones.
    "a_forges_extra_records": (
        "import autograder.checks as _c\n"
        "from autograder.checks import channel as _ch\n"
        "_real = _c.check\n"
        "def check(check_id, answer, *, hidden=False):\n"
        "    _ch.emit(check_id, hidden, [('ok', 0.0)] * 8)\n"
        "    try:\n"
        "        _real(check_id, answer, hidden=hidden)\n"
        "    except Exception:\n"
        "        pass\n"),
    # Write the runner's own events: a cell that ends twice, a start out of order, an exit.
    "a_forges_events": (
        "import os, json\n"
        "for f in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        if os.readlink(f'/proc/self/fd/{f}').startswith('pipe:'):\n"
        "            os.write(int(f), b'{\"e\": \"end\", \"i\": 1}\\n{\"e\": \"exit\", \"status\": 0}\\n')\n"
        "    except OSError:\n"
        "        pass\n"),
    # 200,000 records.
    "a_floods_records": (
        "from autograder.checks import channel\n"
        "for i in range(200_000):\n"
        "    channel.emit('01.count_parameters', False, [('ok', i)])\n"),
    # Many records inside one test cell, under the byte cap: only what the checks make is read.
    "a_floods_a_test_cell": (
        "from autograder.checks import channel\n"
        "_emit = channel.emit\n"
        "def emit(check_id, hidden, observations):\n"
        "    for _ in range(50_000):\n"
        "        _emit(check_id, hidden, observations)\n"
        "channel.emit = emit\n"),
    # 1 GB to /tmp (and /dev/shm), in files the grader would never clean up.
    "a_fills_tmp": (
        "import os\n"
        "block = b'x' * (8 * 1024**2)\n"
        "written = 0\n"
        "for folder in ('/tmp', '/dev/shm'):\n"
        "    for i in range(128):\n"
        "        try:\n"
        "            with open(f'{folder}/dlf-hostile-fill-{i}', 'wb') as fh:\n"
        "                fh.write(block)\n"
        "            written += len(block)\n"
        "        except OSError:\n"
        "            break\n"
        "print('WRITTEN MB', written // 1024**2)\n"),
    # Read the answer key through symbolic links handed in beside the notebook.
    "a_links_to_solutions": (
        "import json, os\n"
        "print(sorted(os.listdir('.')))\n"
        "for name in ('answers/01_unit_to_network/01_unit_to_network.ipynb', 'spec.py'):\n"
        "    try:\n"
        "        print('READ', name, len(open(name).read()))\n"
        "    except OSError as exc:\n"
        "        print('REFUSED', name, exc.strerror)\n"
        "try:\n"
        "    nb = json.load(open('answers/01_unit_to_network/01_unit_to_network.ipynb'))\n"
        "    for cell in nb['cells']:\n"
        "        if cell['metadata'].get('nbgrader', {}).get('solution') and cell['cell_type'] == 'code':\n"
        "            exec(''.join(cell['source']))\n"
        "except OSError:\n"
        "    pass\n"),
}
# Many processes, each under its own limits, that together would take the cores and the
# memory of the submissions graded beside them. The sandbox gives each one memory cap and
# one share of the CPU (test_sandbox pins both); here they go through `dlf grade` with the
# bystanders, who must keep their exact scores.
HOGS: dict[str, str] = {
    "h_busies_every_core": (
        "import os, time\n"
        "end = time.time() + 6\n"
        "for _ in range(8):\n"
        "    if os.fork() == 0:\n"
        "        while time.time() < end:\n"
        "            pass\n"
        "        os._exit(0)\n"
        "while time.time() < end:\n"
        "    pass\n"),
    "h_holds_memory_in_many_processes": (
        "import os, time\n"
        "import numpy as np\n"
        "for _ in range(8):\n"
        "    if os.fork() == 0:\n"
        "        hog = np.ones(200 * 1024**2, dtype=np.uint8)\n"
        "        time.sleep(4)\n"
        "        os._exit(0)\n"
        "time.sleep(5)\n"),
}
# Answers that delegate to the answer key (issue 9's first two rows): the grader's check
# objects and references, the reference implementation of this notebook's exercises, the
# spec files on disk, the running check's frames, and numbers that ask the check for their
# expected value. Each replaces the answer cells named (the rest stays blank).
_NUMBERS = ("params_784_128_32_10", "params_784_64_10", "inputs_64x64", "outputs_3_classes",
            "params_64x64_hidden32")
DELEGATES: dict[str, dict[str, str]] = {
    "d_imports_the_grader": {
        "count_parameters": ("from autograder.specs import registry\n"
                             "count_parameters = registry.get('01.count_parameters').reference"),
        "one_hot": ("from autograder.specs import registry\n"
                    "one_hot = registry.get('01.one_hot').reference"),
        "parameter_answers": "from autograder.specs import registry\n" + "".join(
            f"{n} = registry.get('01.{n.replace('_classes', '').replace('64x64_hidden32', '4096_32_3')}')"
            ".expected()\n" for n in _NUMBERS),
    },
    "d_imports_the_reference": {
        "count_parameters": "from reference_impl import count_parameters",
        "one_hot": "from reference_impl.losses import one_hot",
        "parameter_answers": ("from reference_impl.layers.counting import count_parameters as c\n"
                              "params_784_128_32_10 = c([784, 128, 32, 10])\n"
                              "params_784_64_10 = c([784, 64, 10])\n"
                              "params_64x64_hidden32 = c([4096, 32, 3])\n"),
    },
    "d_reads_the_spec_files": {
        "one_hot": ("import glob, importlib.util\n"
                    "path = (glob.glob('/**/autograder/specs/nb01.py', recursive=True) or ['none'])[0]\n"
                    "spec = importlib.util.spec_from_file_location('stolen', path)\n"
                    "stolen = importlib.util.module_from_spec(spec)\n"
                    "spec.loader.exec_module(stolen)\n"
                    "one_hot = stolen.ONE_HOT.reference"),
    },
    "d_walks_the_checks_frames": {
        "count_parameters": ("import sys\n"
                             "def _steal():\n"
                             "    frame = sys._getframe(1)\n"
                             "    while frame is not None:\n"
                             "        for value in list(frame.f_locals.values()):\n"
                             "            ref = getattr(value, 'reference', None)\n"
                             "            if callable(ref):\n"
                             "                return ref\n"
                             "        frame = frame.f_back\n"
                             "    raise LookupError('no reference on the stack')\n"
                             "def count_parameters(layer_sizes):\n"
                             "    return _steal()(layer_sizes)\n"
                             "def one_hot(labels, n_classes):\n"
                             "    return _steal()(labels, n_classes)"),
    },
    "d_numbers_ask_the_check": {
        "parameter_answers": ("import gc\n"
                              "class Sly(float):\n"
                              "    def __float__(self):\n"
                              "        for obj in gc.get_objects():\n"
                              "            expected = getattr(obj, 'expected', None)\n"
                              "            if callable(expected):\n"
                              "                try:\n"
                              "                    return float(expected())\n"
                              "                except Exception:\n"
                              "                    pass\n"
                              "        return 0.5\n"
                              + "".join(f"{n} = Sly(0.5)\n" for n in _NUMBERS)),
    },
    "d_forges_hidden_with_visible_values": {
        "count_parameters": ("import json\n"
                             "from importlib import resources\n"
                             "from autograder.checks import channel, exercises, values\n"
                             "_data = json.loads(resources.files('autograder.exercises')"
                             ".joinpath('nb01.json').read_text())\n"
                             "def check(check_id, answer, *, hidden=False):\n"
                             "    entry = _data['checks'][check_id]\n"
                             "    obs = [('ok', values.decode(v)) for v in entry.get('expected', [])] or [('ok', 1)]\n"
                             "    if hidden:\n"
                             "        obs = (obs * 20)[:len(exercises.hidden_cases(check_id) or ())]\n"
                             "    channel.emit(check_id, hidden, obs)"),
    },
}
BYSTANDERS = ("b_key", "b_blank", "b_partial", "z_key_after", "z_blank_after")


def _tree_digest(folder: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _venv_state() -> dict[str, tuple[int, int, int, str]]:
    """Every file of the venv's site-packages: size, mtime, ctime (no write keeps ctime), and the
    content hash of the files Python runs on start-up (.pth) or imports first."""
    import hashlib
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    out: dict[str, tuple[int, int, int, str]] = {}
    for path in sorted(site.rglob("*")):
        if path.is_symlink() or not path.is_file() or "__pycache__" in path.parts:
            continue
        info = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.parent == site else ""
        out[str(path)] = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, digest)
    return out


def _grader_files() -> dict[str, object]:
    return {"autograder": _tree_digest(ROOT / "autograder"),
            "reference_impl": _tree_digest(ROOT / "reference_impl"), "site-packages": _venv_state()}


def _leftovers(tmpdir: Path) -> list[str]:
    """What the run left: in its own TMPDIR, and the attackers' files anywhere they aimed."""
    return sorted([*(str(p) for p in tmpdir.iterdir()),
                   *(str(p) for folder in (Path("/tmp"), Path("/dev/shm"), Path("/var/tmp"))
                     for p in folder.glob("dlf-hostile-*"))])


def _descendants() -> set[int]:
    from tests.autograder.test_sandbox import descendants

    return set(descendants(os.getpid()))


def _hostile_class(root: Path) -> tuple[Path, dict[str, float]]:
    """The workspace, and the exact score each bystander earns when graded alone."""
    from autograder.grading import grade_notebook

    release, solution = read(ASSIGNMENT.release), read(ASSIGNMENT.source)
    submitted = root / "ws" / "submitted"
    name = ASSIGNMENT.name

    def hand_in(student: str, nb: nbformat.NotebookNode) -> Path:
        folder = submitted / student / name
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{name}.ipynb"))
        return folder

    for student, cells in DELEGATES.items():
        nb = copy.deepcopy(release)
        for cell in nb.cells:
            if is_answer(cell) and nbgrader_meta(cell)["grade_id"] in cells:
                cell.source = cells[nbgrader_meta(cell)["grade_id"]]
        hand_in(student, nb)
    for student, code in HOGS.items():
        hand_in(student, _with_hostile_cell(release, code))
    for student, code in ATTACKS.items():
        nb = _with_hostile_cell(release, code)
        if student == "a_forges_events":
            nb = _with_hostile_cell(release, code, before_last_test=True)
        hand_in(student, nb)
    links = submitted / "a_links_to_solutions" / name
    (links / "answers").symlink_to(ROOT / "solutions")
    (links / "spec.py").symlink_to(ROOT / "autograder" / "specs" / "nb01.py")
    linked_notebook = hand_in("a_linked_notebook", release) / f"{name}.ipynb"
    linked_notebook.unlink()
    linked_notebook.symlink_to(ASSIGNMENT.source)
    (submitted / "a_linked_folder").mkdir()
    (submitted / "a_linked_folder" / name).symlink_to(ASSIGNMENT.source.parent)

    partial = copy.deepcopy(solution)  # the solution with its first answer left blank
    first = next(c for c in partial.cells if is_answer(c))
    first.source = next(c.source for c in release.cells
                        if nbgrader_meta(c).get("grade_id") == nbgrader_meta(first)["grade_id"])
    alone = root / "alone"
    expected = {}
    for student, nb in (("b_key", solution), ("b_blank", release), ("b_partial", partial),
                        ("z_key_after", solution), ("z_blank_after", release)):
        hand_in(student, nb)
        folder = alone / student
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{name}.ipynb"))
        expected[student] = _auto_points(grade_notebook(ASSIGNMENT.source, folder / f"{name}.ipynb"))
    return root / "ws", expected


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    import json
    import tempfile
    import time

    from autograder.cli import main

    ws, expected = _hostile_class(tmp_path_factory.mktemp("hostile-class"))
    tmpdir = tmp_path_factory.mktemp("grader-tmp")  # the grader's own TMPDIR, to see what it leaves
    before = {"files": _grader_files(), "tmp": _leftovers(tmpdir), "processes": _descendants()}
    started = time.monotonic()
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"], tempfile.tempdir = str(tmpdir), None
    try:
        assert main(["grade", "--workspace", str(ws), "--workers", "2", "--cell-timeout", "20",
                     "--notebook-timeout", "60", "--memory-mb", "1024"]) == 0
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved
        tempfile.tempdir = None
    seconds = time.monotonic() - started
    time.sleep(1.0)
    results = {p.parent.parent.name: json.loads(p.read_text())
               for p in (ws / "autograded").glob("*/*/result.json")}
    sizes = {p.parent.parent.name: p.stat().st_size for p in (ws / "autograded").glob("*/*/result.json")}
    after = {"files": _grader_files(), "tmp": _leftovers(tmpdir), "processes": _descendants()}
    return {"results": results, "expected": expected, "before": before, "after": after,
            "seconds": seconds, "sizes": sizes}


def _points(result: dict[str, object]) -> float:
    return sum(float(i["points"] or 0) for i in result["items"] if i["kind"] == "autograded")  # type: ignore[index, union-attr, attr-defined]


ATTACKERS = [*ATTACKS, "a_linked_notebook", "a_linked_folder"]


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_an_attacker_earns_nothing_and_is_flagged(graded_class: dict, attacker: str) -> None:
    result = graded_class["results"][attacker]
    assert _points(result) == 0, {i["grade_id"]: i["points"] for i in result["items"] if i["points"]}
    assert result["flags"], f"{attacker} is not flagged"


@pytest.mark.parametrize("attacker", list(DELEGATES))
def test_an_answer_that_delegates_to_the_answer_key_earns_nothing(graded_class: dict,
                                                                  attacker: str) -> None:
    result = graded_class["results"][attacker]
    assert _points(result) == 0, {i["grade_id"]: i["points"] for i in result["items"] if i["points"]}
    assert result["flags"], f"{attacker} is not flagged"


@pytest.mark.parametrize("hog", list(HOGS))
def test_a_resource_hog_earns_nothing(graded_class: dict, hog: str) -> None:
    result = graded_class["results"][hog]
    assert _points(result) == 0, {i["grade_id"]: i["points"] for i in result["items"] if i["points"]}


def test_the_memory_hog_met_the_sandboxs_cap(graded_class: dict) -> None:
    from autograder.sandbox import kernel

    if kernel.new_cgroup("memory", os.getpid()) is None:
        pytest.skip("this machine lets the grader make no memory cgroup")
    problems = graded_class["results"]["h_holds_memory_in_many_processes"]["problems"]
    # 8 x 200 MB against 1024 MB + the 256 MB /tmp + the 16 MB /dev/shm: 1296 MB.
    assert any("over the sandbox's memory cap" in p and "1296 MB" in p for p in problems), problems


def test_bystanders_keep_their_exact_scores_and_no_flag(graded_class: dict) -> None:
    for student in BYSTANDERS:
        result = graded_class["results"][student]
        assert _points(result) == graded_class["expected"][student], (student, result["problems"])
        assert not result["flags"], (student, result["flags"])
    assert graded_class["expected"]["b_key"] > graded_class["expected"]["b_partial"] > 0


@pytest.mark.parametrize(("attacker", "words"), [
    ("a_silences_and_forges", "tampered with the result channel"),
    ("a_forges_events", "tampered with the result channel"),
    ("a_forges_extra_records", "check records where the instructor's checks write"),
    ("a_forges_extra_records", "redefines check"),
    ("a_floods_a_test_cell", "check records where the instructor's checks write"),
    ("a_appends_to_other_channels", "/proc"),
    ("a_rewrites_grader_files", "writes "),
    ("a_links_to_solutions", "symbolic link answers ->"),
    ("a_linked_notebook", "symbolic link"),
    ("a_linked_folder", "symbolic link"),
])
def test_the_flag_says_why(graded_class: dict, attacker: str, words: str) -> None:
    flags = " | ".join(graded_class["results"][attacker]["flags"])
    assert words in flags, flags


def test_a_flood_is_a_problem_with_a_reason_not_a_stall(graded_class: dict) -> None:
    flood = graded_class["results"]["a_floods_records"]
    assert any("flooded its result channel" in p for p in flood["problems"]), flood["problems"]
    assert graded_class["sizes"]["a_floods_records"] < 200_000
    assert graded_class["sizes"]["a_floods_a_test_cell"] < 200_000
    assert graded_class["seconds"] < 120, "the whole class, attacks included"


def test_the_graders_files_are_byte_identical(graded_class: dict) -> None:
    before, after = graded_class["before"]["files"], graded_class["after"]["files"]
    for part in before:
        changed = {k for k in before[part].keys() | after[part].keys()
                   if before[part].get(k) != after[part].get(k)}
        assert not changed, (part, sorted(changed)[:10])
    assert not Path("/tmp/dlf-hostile-pth-ran").exists()


def test_nothing_persists_after_the_run(graded_class: dict) -> None:
    assert graded_class["before"]["tmp"] == [] and graded_class["after"]["tmp"] == []
    assert graded_class["after"]["processes"] <= graded_class["before"]["processes"], \
        "workers, zygotes and sandboxes are gone"


def test_no_flag_on_any_solution_or_blank_release() -> None:
    """Suspicious by default, but never of the course's own notebooks: zero false positives."""
    try:  # the notebook tests grade every solution and release once a session: reuse them
        from tests.notebooks.conftest import graded

        results = [(a.name, which, graded(a, which)) for a in assignments()
                   for which in ("solution", "release")]
    except (ImportError, TypeError, KeyError):
        jobs = [Job(a.source, a.source if which == "solution" else a.release, which)
                for a in assignments() for which in ("solution", "release")]
        results = [(j.source.parent.name, j.student, r)
                   for j, r in zip(jobs, grade_many(jobs, workers=2), strict=True)]
    for name, which, result in results:
        assert not result.flags, (name, which, result.flags)
        assert not [p for p in result.problems if "tamper" in p or "without" in p], result.problems
