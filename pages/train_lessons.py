"""The Train page's lessons: one click to a tutorial's exact settings, and its
reported figure beside the learner's own (see :mod:`cnnlib.training.lessons`)."""

from __future__ import annotations

import streamlit as st

from cnnlib import rundir
from cnnlib.data import datasets
from cnnlib.training import config, lessons
from cnnlib.viz import train_plots
from pages import common

LESSON_KEY = config.widget_key("lesson")


def _label(name: str | None) -> str:
    if name is None:
        return "None: my own settings"
    lesson = lessons.LESSONS[name]
    return f"{name}: tutorial {lesson.tutorial}, {lesson.summary}"


def apply_lesson(name: str | None = None) -> None:
    """Fill every setting's widget with the lesson's value (a callback: it runs before
    the widgets are drawn). ``name`` defaults to the selector's value. A lesson that
    trains on all images gets the whole local split in the size widgets."""
    name = name or st.session_state.get(LESSON_KEY)
    if name is None:
        return
    lesson = lessons.lesson(name)
    st.session_state[LESSON_KEY] = name
    values = lesson.config.to_dict()
    try:
        data = common.load_dataset(lesson.config.dataset)
        values["n_train"] = values["n_train"] or len(data.x_train)
        values["n_test"] = values["n_test"] or len(data.x_test)
    except datasets.DatasetUnavailableError:
        pass  # the page says why the dataset is missing
    for field, value in values.items():
        if field not in ("data_dir", "run_root", "lesson") and value is not None:
            st.session_state[config.widget_key(field)] = value


def lesson_selector(default: str | None) -> lessons.Lesson | None:
    """The Lesson select box, starting at ``default``; returns the chosen lesson."""
    names = [None, *lessons.LESSONS]
    name = st.selectbox("Lesson", names, format_func=_label, key=LESSON_KEY,
                        index=names.index(default) if default in names else 0,
                        on_change=apply_lesson,
                        help="Fills every setting below with a tutorial's; you can still "
                             "change any of them.")
    return lessons.LESSONS.get(name) if name else None


def data_note(lesson: lessons.Lesson, local_n_train: int, source: str) -> str:
    """One sentence comparing the text's training set with the local one."""
    if local_n_train >= lesson.text_n_train:
        return f"This machine has the text's {lesson.text_n_train:,} training images ({source})."
    return (f"The text trained on {lesson.text_n_train:,} images; this machine has "
            f"{local_n_train:,} ({source}), so expect a lower figure.")


def lesson_box(lesson: lessons.Lesson, current: config.TrainConfig,
               events: list[dict] | None = None) -> None:
    """The lesson's title, the text's figure, the learner's figure from ``events`` (a
    run's, or None before training) and any setting changed from the text's."""
    with st.container(border=True):
        st.markdown(f"**Lesson {lesson.name}**, from tutorial {lesson.tutorial} "
                    f"*{lesson.title}* (`{lesson.file}`): {lesson.summary}")
        st.markdown(f"The text reports {lesson.figure_text()}.")
        if events:
            mine = lessons.own_figure(lesson, events)
            start = rundir.last(events, "start")
            if mine is not None and start is not None:
                st.markdown(f"Your run: **{lessons.METRIC_TEXT[lesson.metric]} {mine:.4g}** "
                            f"({start['n_train']:,} training images, {start['n_test']:,} test "
                            f"images from `{start['dataset_source']}`).")
        changed = lessons.differences(current, lesson)
        if changed:
            st.caption("Changed from the text: " + ", ".join(
                f"{field} {mine!r} (text: {theirs!r})" for field, mine, theirs in changed))


def comparison_section(lesson: lessons.Lesson, runs: list[rundir.RunDir]) -> None:
    """For a lesson the text compares with another (002: CNN vs logistic regression):
    both models' latest runs among ``runs`` (newest first: this person's), with the
    text's figures, on one chart, and a button that loads the other lesson."""
    if lesson.compare_with is None:
        return
    other = lessons.lesson(lesson.compare_with)
    rows = []
    for item in (lesson, other):
        run = next((r for r in runs if r.config().lesson == item.name and r.result()), None)
        end = run.result() if run else None
        rows.append((item.name, item.figure, end.get("train_accuracy") if end else None,
                     end.get("test_accuracy") if end else None))
    st.markdown(f"Tutorial {lesson.tutorial} compares **{lesson.name}** with "
                f"**{other.name}**: train both and see them side by side.")
    st.button(f"Load the {other.name} lesson", key="train_load_companion",
              on_click=apply_lesson, args=(other.name,))
    st.plotly_chart(train_plots.lesson_comparison_figure(rows), key="train_lesson_compare")
