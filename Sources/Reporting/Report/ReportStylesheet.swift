/// The report's inline CSS: a readable single column, tables with tabular figures, highlighted best
/// values, a warning box for synthetic data. Only local fonts; no external resources.
enum ReportStylesheet {
    static let css = """
    :root { --ink: #222; --muted: #555; --rule: #d9d9d9; --best: #e3effa; --accent: #0072b2; }
    * { box-sizing: border-box; }
    body { margin: 0; background: #f6f6f4; color: var(--ink);
           font: 16px/1.5 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
    main { max-width: 1100px; margin: 0 auto; padding: 24px 36px 48px; background: #fff; min-height: 100vh; }
    h1 { font-size: 28px; margin: 8px 0 16px; border-bottom: 3px solid var(--accent); padding-bottom: 8px; }
    h2 { font-size: 21px; margin: 32px 0 10px; }
    h3 { font-size: 17px; margin: 20px 0 8px; }
    p { margin: 8px 0; }
    .summary p { font-size: 17px; }
    .synthetic { background: #fff4d6; border: 2px solid #e69f00; border-left-width: 8px; padding: 10px 14px;
                 margin: 12px 0 16px; border-radius: 4px; }
    .badge { display: inline-block; font-size: 13px; font-weight: bold; background: #e69f00; color: #fff;
             border-radius: 10px; padding: 1px 10px; vertical-align: middle; }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 8px 0; }
    dl.facts dt { color: var(--muted); }
    dl.facts dd { margin: 0; }
    .table-wrap { overflow-x: auto; margin: 16px 0; }
    table { border-collapse: collapse; font-size: 14px; }
    caption { caption-side: top; text-align: left; padding-bottom: 6px; }
    .label { font-weight: bold; }
    th, td { padding: 5px 12px; border-bottom: 1px solid var(--rule); text-align: left; }
    thead th { border-bottom: 2px solid var(--ink); }
    .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    td.best { background: var(--best); }
    .note { color: var(--muted); font-size: 14px; }
    figure { margin: 20px 0; }
    figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
    figcaption { color: var(--muted); font-size: 14px; margin-top: 6px; max-width: 900px; }
    pre.config { background: #f4f4f4; border: 1px solid var(--rule); padding: 10px 12px; font-size: 13px;
                 overflow-x: auto; white-space: pre; }
    .provenance { border-top: 1px solid var(--rule); margin-top: 36px; }
    """
}
