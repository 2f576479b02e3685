"""Human preference study: a Streamlit app, its vote store (SQLAlchemy + Alembic) and analysis.

    void study init --config study.yaml --db sqlite:///study.db
    void study serve --db sqlite:///study.db
    void study analyze --db sqlite:///study.db --out results/study

The entry functions load on first use, so importing the package stays light.
"""

from evaluate.study.config import StudyAnalyzeConfig, StudyInitConfig, StudyServeConfig

__all__ = ["StudyInitConfig", "StudyServeConfig", "StudyAnalyzeConfig", "init_study", "serve", "analyze"]


def __getattr__(name):
    if name in ("init_study", "serve"):
        from evaluate.study import manage

        return getattr(manage, name)
    if name == "analyze":
        from evaluate.study.analysis import analyze

        return analyze
    raise AttributeError(f"module 'evaluate.study' has no attribute {name!r}")
