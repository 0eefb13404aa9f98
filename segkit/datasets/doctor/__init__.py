"""The data doctor behind ``tools/misc/check_dataset.py``: scan every image / mask pair of a config's splits
(``scan``), sum them up per split (``summary``), judge them against the config (``verdicts``) and print one table
(``report``)."""
from .report import format_report
from .scan import SampleScan, scan_sample
from .summary import SplitSummary, summarize_split
from .verdicts import Verdict, judge

__all__ = ['SampleScan', 'scan_sample', 'SplitSummary', 'summarize_split', 'Verdict', 'judge', 'format_report']
