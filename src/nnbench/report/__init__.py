"""``nnbench report``: the tables and cell files -> one self-contained HTML report.

Inputs (``--results DIR``, default ``results``; each can be given on its own):

* ``DIR/tables/summary.csv``, ``DIR/tables/runs.csv`` (``nnbench.tables``), ``DIR/tables/course_*.csv``
  (``nnbench course``), ``DIR/benchmarks.csv`` (Snakemake's benchmarks, gathered by ``nnbench tables``);
* the cell files ``DIR/runs/{dataset}/{init}/{reg}/{opt}.json`` (contract 2) — only the few cells the
  learning curves and decision boundaries need are read;
* ``--config-json`` the config as run (a file, or an inline JSON object);
* the study tables ``study_*.csv`` (``nnbench studies``; ``--studies DIR``, default the tables folder) and,
  optionally, their Snakemake benchmarks ``--studies-benchmarks DIR/{study}.tsv``: section 8, "Studies";
* ``--baseline DIR``, a baseline run's results folder: the section "What moved since the baseline" at the top
  (:mod:`nnbench.baseline`, :mod:`.sections.baseline`), and ``baseline_comparison.csv`` in ``--tables-out``.

Output: ``--out reports/report.html`` — CSS and figures inline (SVG, PNG for decision boundaries), and one
script of our own inline (``explore.js``: sortable and filterable tables, a figure's panel picker, hover tips;
the page reads the same without it), nothing fetched from the network. Optionally ``--figures-dir`` (every figure as its own file, one folder
per category, for Snakemake's ``--report``) and ``--tables-out`` (rankings, main effects, course
reproduction as CSV).

The numbers in the statistics tables are ``summary.csv``'s, printed as ``mean ± (ci_high − mean)`` in
percent with one decimal (the same format as ``nnbench.tables``). Every string from a config or a file
goes through Jinja2 with autoescape on. Statistics: :mod:`nnbench.stats`.

Modules: :mod:`.format` (numbers to text), :mod:`.inputs` (reads result files only), :mod:`.figures` (one
module per kind of figure, and the process pool), :mod:`.sections` (one module per section, each turning the
inputs into a context dict), :mod:`.render` (assembling, Jinja2, the files beside the report), :mod:`.cli`.

Figures: the sections do not draw; they put a :class:`FigureTask` (a function of
:mod:`nnbench.report.figures` and its arguments) where a figure goes. :func:`render_figures` renders every
task at one place — in this process with ``--jobs 1`` (the default), in ``--jobs N`` forked worker processes
otherwise, longest first — and the results take the tasks' places. Every figure is deterministic (no metadata,
SVG ids salted with the figure's name), so the report and the figure files are byte-identical whatever N.
"""

from .cli import build_parser, main
from .figures import FigureTask, render_figures
from .format import _published_display
from .inputs import ReportInputs
from .render import build_report

__all__ = ["main", "build_parser", "build_report", "render_figures", "FigureTask", "ReportInputs", "_published_display"]
