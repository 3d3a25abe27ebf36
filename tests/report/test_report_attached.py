"""Sections written by other tools (train eval, webmix ablate) appear in the run report, with their
figures inlined so the page stays one file."""
from pipeline.report.collect import collect
from pipeline.report.render import render

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_attached_sections_are_included_with_inlined_figures(tmp_path):
    for name, heading in (("eval", "Evaluation"), ("ablation", "Data ablation")):
        folder = tmp_path / name / "report"
        folder.mkdir(parents=True)
        (folder / "figure.png").write_bytes(PNG)
        (folder / "section.html").write_text(
            f"<section><h2>{heading}</h2><pre>| a | b |</pre><img src=\"figure.png\" alt=\"x\"></section>")
    page = render(collect(tmp_path))
    assert 'href="#attached-ablation">Data ablation</a>' in page
    assert 'href="#attached-eval">Evaluation</a>' in page
    assert page.count("<pre>| a | b |</pre>") == 2          # the fragment's HTML, not escaped
    assert page.count("data:image/png;base64,") >= 2 and 'src="figure.png"' not in page
    assert page.index('id="attached-ablation"') < page.index('id="attached-eval"')
