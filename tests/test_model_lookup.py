"""Where the shipped models are found: a named folder, the source tree, or a short name. From the Hub at the
pinned revision (a local stand-in), and the one-line error offline without them, are in
tests/integration/test_hub_stub.py; the wheel, code only, in tests/integration/test_wheel.py."""

from conftest import REPO, TINY


def test_the_source_tree_is_found_from_any_working_folder(tmp_path, monkeypatch):
    from ienhancer_elm.paths import shipped_model_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IENHANCER_ELM_MODELS", raising=False)
    assert shipped_model_path("layer2") == REPO / "models" / "ienhancer-elm-layer2"


def test_a_folder_named_by_the_environment_comes_first(tmp_path, monkeypatch):
    from ienhancer_elm.paths import shipped_model_path

    (tmp_path / "ienhancer-elm-layer1").symlink_to(TINY, target_is_directory=True)
    monkeypatch.setenv("IENHANCER_ELM_MODELS", str(tmp_path))
    assert shipped_model_path("layer1") == tmp_path / "ienhancer-elm-layer1"


def test_a_wrong_folder_in_the_environment_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    import pytest

    from ienhancer_elm.paths import NoDefaultModel, shipped_model_path

    monkeypatch.setenv("IENHANCER_ELM_MODELS", str(tmp_path))
    with pytest.raises(NoDefaultModel, match="holds no ienhancer-elm-layer1/config.json"):
        shipped_model_path("layer1")


def test_a_shipped_models_short_name_is_that_model_unless_a_folder_here_has_the_name(tmp_path, monkeypatch):
    from ienhancer_elm.evaluation import load_scorer
    from ienhancer_elm.paths import resolve_model

    (tmp_path / "ienhancer-elm-nhlf").symlink_to(TINY, target_is_directory=True)
    monkeypatch.setenv("IENHANCER_ELM_MODELS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert resolve_model("nhlf") == str(tmp_path / "ienhancer-elm-nhlf")
    assert resolve_model(None, "nhlf") == str(tmp_path / "ienhancer-elm-nhlf")
    scorer = load_scorer(None, "cpu", config="enhancer_if_nhlf")  # evaluate's default for that config
    assert scorer.description["source"] == str(tmp_path / "ienhancer-elm-nhlf")
    (tmp_path / "nhlf").mkdir()  # a folder of that name here wins: it is what the user pointed at
    assert resolve_model("nhlf") == "nhlf"
