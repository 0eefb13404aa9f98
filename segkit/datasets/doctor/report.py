"""The data doctor's one table (a column per split) and its verdict lines."""
from typing import List, Sequence

from prettytable import PrettyTable

from segkit.datasets.label_stats import class_weights

from .summary import SplitSummary, ValueRow
from .verdicts import ModelFacts, Verdict, band_statistics, mask_style

#: label value rows shown before "... more"
MAX_VALUE_ROWS = 40


def _label_name(row: ValueRow, classes: Sequence[str], s: SplitSummary) -> str:
    if row.label is None:
        return 'no class (colour outside the palette)' if isinstance(row.raw, tuple) else 'no class'
    if row.label == s.ignore_index:
        return 'ignored'
    if 0 <= row.label < len(classes):
        return f'{row.label} {classes[row.label]}'
    return f'{row.label}: OUT OF RANGE'


def _value_rows(summaries: Sequence[SplitSummary], classes: Sequence[str]) -> List[List[str]]:
    """One row per raw value (or colour), in label order: ``value -> label``, then each split's pixel share and
    image count."""
    cells = {}
    for s in summaries:
        total = max(sum(r.pixels for r in s.rows), 1)
        for r in s.rows:
            label = r.label if r.label is not None else float('inf')
            name = f'value {list(r.raw) if isinstance(r.raw, tuple) else r.raw} -> {_label_name(r, classes, s)}'
            cells.setdefault((label, str(r.raw), name), {})[s.name] = (
                f'{100 * r.pixels / total:.2f} % px, {r.images} img')
    ordered = sorted(cells)
    rows = [[key[2]] + [cells[key].get(s.name, '-') for s in summaries] for key in ordered[:MAX_VALUE_ROWS]]
    if len(ordered) > MAX_VALUE_ROWS:
        rows.append([f'... {len(ordered) - MAX_VALUE_ROWS} more values'] + [''] * len(summaries))
    return rows


def _weights(s: SplitSummary, method: str) -> str:
    if s.name != 'train' or not s.counts.sum():
        return '-'
    return '[' + ', '.join(f'{w:.3f}' for w in class_weights(s.counts, s.image_pixels, method)) + ']'


def format_report(summaries: Sequence[SplitSummary], classes: Sequence[str], facts: ModelFacts,
                  verdicts: Sequence[Verdict]) -> str:
    """The table (checks x splits) and the verdict below it."""
    table = PrettyTable(['check'] + [f'{s.name} ({s.key})' for s in summaries])
    table.align = 'l'
    rows = [
        ['images found / missing', *(f'{s.images_found} / {len(s.missing_images)}' for s in summaries)],
        ['masks found / missing', *(f'{s.masks_found} / {len(s.missing_masks)}' for s in summaries)],
        ['unreadable files', *(str(len(s.unreadable)) for s in summaries)],
        ['mask size mismatches', *(str(len(s.size_mismatches)) for s in summaries)],
        ['image bands x dtype (max value)', *(', '.join(f'{b}' for b in s.bands) + ' x ' + ', '.join(s.dtypes)
                                              + f' ({s.value_max:g})' for s in summaries)],
        ['masks look like', *(mask_style(s) for s in summaries)],
        *_value_rows(summaries, classes),
        ['class_weight, median frequency', *(_weights(s, 'median') for s in summaries)],
        ['class_weight, inverse sqrt', *(_weights(s, 'inv_sqrt') for s in summaries)],
        ['band mean / std (model order)', *((band_statistics(s, facts) or '-') for s in summaries)],
        ['verdict', *(_split_verdict(s, verdicts) for s in summaries)],
    ]
    for row in rows:
        table.add_row(row)
    lines = [table.get_string(), '']
    if verdicts:
        lines.append(f'Verdict: {sum(v.severity == "error" for v in verdicts)} errors, '
                     f'{sum(v.severity == "warning" for v in verdicts)} warnings; config keys to change:')
        lines += [f'  {v}' for v in verdicts]
    else:
        lines.append('Verdict: OK, nothing to change.')
    return '\n'.join(lines)


def _split_verdict(s: SplitSummary, verdicts: Sequence[Verdict]) -> str:
    mine = [v for v in verdicts if v.split == s.name]
    errors = sum(v.severity == 'error' for v in mine)
    return 'OK' if not mine else f'{errors} errors, {len(mine) - errors} warnings'
