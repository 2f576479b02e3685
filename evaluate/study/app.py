"""The preference-study app (Streamlit script), run by ``void study serve``.

Participants: consent -> instructions -> trials -> completion code. The resume link
(``?token=...``) carries only the server-issued token and continues at the first unanswered
trial. A crowd platform's id (``?PROLIFIC_PID=...``) is stored with the participant and
never used to find anyone. Admins: ``?admin=1`` asks for ``VOID_STUDY_ADMIN_TOKEN``.

The database URL comes from ``VOID_STUDY_DB``; the schema is brought to the newest
migration when the app starts. Every answer is committed in the button's callback, before
the script reruns to show the next trial.
"""

from __future__ import annotations

import base64
import hmac
import html
import json
import os
import time

import streamlit as st

from evaluate.study import media
from evaluate.study.store import AccessDenied, InvalidVote, StoreError, csv_text, open_store

DB_ENV = "VOID_STUDY_DB"  # = manage.DB_ENV (manage imports subprocess machinery the app does not need)
ADMIN_ENV = "VOID_STUDY_ADMIN_TOKEN"
VIDEO_HEIGHT_PX = 240


@st.cache_resource(show_spinner=False)
def get_store(url: str):
    return open_store(url)  # upgrades the schema to head once per server process


# --------------------------------------------------------------------------- videos


def video_url(store, video_id: int) -> str:
    """A URL the browser can fetch for a study video (ids in, never paths)."""
    data, mime = media.read(store, video_id)
    from streamlit import runtime

    if runtime.exists():
        # Streamlit's media endpoint serves these bytes with range requests, as for st.video.
        return runtime.get_instance().media_file_mgr.add(data, mime, f"void-study.video.{video_id}")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _player_html(trial_id: int, source: str, candidates: list[tuple[str, str]]) -> str:
    """Source on top, candidates below; all muted, started together, looping together.

    One player drives the loop (the source): when it ends every video restarts from 0, and
    stragglers are nudged back in step, so results of equal length stay frame-aligned.
    """
    cells = "".join(
        f'<figure><figcaption>{html.escape(label)}</figcaption>'
        f'<video muted playsinline preload="auto" src="{html.escape(url)}"></video></figure>'
        for label, url in candidates
    )
    return f"""
<style>
  body {{ margin: 0; font-family: sans-serif; }}
  figure {{ margin: 0 4px; flex: 1 1 0; min-width: 0; text-align: center; }}
  figcaption {{ font-weight: 600; margin: 4px 0; }}
  video {{ width: 100%; height: {VIDEO_HEIGHT_PX}px; object-fit: contain; background: #111; }}
  .row {{ display: flex; justify-content: center; }}
  .source figure {{ max-width: 50%; }}
</style>
<body data-trial="{int(trial_id)}">
<div class="row source"><figure><figcaption>Original</figcaption>
<video muted playsinline preload="auto" src="{html.escape(source)}"></video></figure></div>
<div class="row">{cells}</div>
<script>
const vids = Array.from(document.querySelectorAll("video"));
const leader = vids[0];
function startAll() {{
  vids.forEach(v => {{ v.muted = true; v.currentTime = 0; v.play().catch(() => {{}}); }});
  document.body.dataset.started = String(Number(document.body.dataset.started || 0) + 1);
}}
function whenReady() {{
  if (vids.every(v => v.readyState >= 3)) startAll(); else setTimeout(whenReady, 100);
}}
vids.forEach(v => v.load());
whenReady();
leader.addEventListener("ended", startAll);
document.addEventListener("click", startAll);
setInterval(() => {{
  if (leader.paused) return;
  vids.slice(1).forEach(v => {{
    if (!v.ended && Math.abs(v.currentTime - leader.currentTime) > 0.15) v.currentTime = leader.currentTime;
  }});
}}, 500);
</script>
</body>"""


def show_videos(store, trial, labels: list[str]) -> None:
    urls = [video_url(store, v) for v in trial.candidate_videos]
    rows = 2 + (len(urls) - 1) // 4  # the source row, then candidates wrap after 4 (CSS flex)
    html_text = _player_html(trial.trial_id, video_url(store, trial.source_video), list(zip(labels, urls)))
    # Our own markup (labels are fixed, URLs come from Streamlit's media manager), so the
    # script-running iframe that st.iframe gives an HTML string is what we want here.
    st.iframe(html_text, height=rows * (VIDEO_HEIGHT_PX + 40) + 10)


# --------------------------------------------------------------------------- participant


def _set_token(token: str) -> None:
    st.session_state["token"] = token
    # The resume link: only the token, nothing a platform put in the URL.
    st.query_params.clear()
    st.query_params["token"] = token


def _start(store, study) -> None:
    token = st.session_state.get("token")
    if token and store.participant(token) is not None:
        return  # a second click on "Continue" that arrived after the first one registered us
    external = next(((k, st.query_params[k]) for k in study.external_id_params if st.query_params.get(k)), (None, None))
    token = store.create_participant(external_id=external[1], external_source=external[0])
    store.mark(token, "consent")
    _set_token(token)


def consent_page(store, study) -> None:
    st.title("Video study")
    st.markdown(study.consent)
    agree = st.checkbox("I have read this and agree to take part.", key="agree")
    st.button("Continue", key="consent", disabled=not agree, type="primary", on_click=_start, args=(store, study))


def instructions_page(store, study, token: str, state) -> None:
    st.title("Instructions")
    st.markdown(study.instructions)
    st.markdown(f"**The question:** {study.question}")
    st.markdown(f"There are {state.n_trials} trials. Videos are silent and loop; "
                "they may take a moment to load.")
    link = f"?token={token}"
    st.markdown(f"To continue later, keep this link: [resume link]({link})")
    st.button("Start", key="instructions", type="primary", on_click=store.mark, args=(token, "instructions"))


def _vote(store, token: str, trial_id: int, choice: int | None, min_response_s: float) -> None:
    shown = st.session_state.setdefault("shown_at", {}).get(trial_id)
    elapsed = None if shown is None else time.monotonic() - shown
    if elapsed is not None and elapsed < min_response_s:
        st.session_state["flash"] = ("warning", "Please watch the videos before answering.")
        return
    try:
        result = store.record_vote(token, trial_id, choice, None if elapsed is None else round(elapsed * 1000))
    except (AccessDenied, InvalidVote) as exc:
        st.session_state["flash"] = ("error", f"That answer was not accepted: {exc}")
        return
    if not result.created and result.choice_position != choice:
        # (the same choice again is just a double click: nothing to say)
        st.session_state["flash"] = ("info", "This trial was already answered (perhaps in another tab); continuing.")


def trial_page(store, study, token: str, state) -> None:
    trial = state.trial
    n = len(trial.candidate_videos)
    labels = ["Left", "Right"] if n == 2 else [f"Video {i + 1}" for i in range(n)]
    st.progress(trial.position / trial.total, text=f"Trial {trial.position + 1} of {trial.total}")
    st.subheader(study.question)
    show_videos(store, trial, labels)
    st.session_state.setdefault("shown_at", {}).setdefault(trial.trial_id, time.monotonic())
    args = (store, token, trial.trial_id)
    for i, col in enumerate(st.columns(n)):
        col.button(labels[i], key=f"vote-{trial.trial_id}-{i}", on_click=_vote, args=(*args, i, study.min_response_s), width="stretch")
    if trial.allow_tie:
        st.button("Both equally", key=f"vote-{trial.trial_id}-tie", on_click=_vote, args=(*args, None, study.min_response_s), width="stretch")


def completion_page(store, study, token: str) -> None:
    code, reveal = store.finish(token)
    st.title("Thank you!")
    st.success("All trials are done and your answers are saved.")
    st.markdown(f"Your completion code: **`{code}`**")
    if study.completion_url:
        st.link_button("Return to the study platform", study.completion_url.format(code=code))
    st.markdown("The methods behind the videos, hidden until now, and how often you picked each:")
    st.table([{"method": r["method"], "picked": r["chosen"], "shown": r["shown"]} for r in reveal])


def participant_flow(store, study) -> None:
    token = st.session_state.get("token") or st.query_params.get("token")
    state = store.participant(token) if token else None
    if token and state is None:
        st.session_state.pop("token", None)
        st.warning("This link is not valid. You can start a new session below.")
    elif token:
        st.session_state["token"] = token
    flash = st.session_state.pop("flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
    if state is None or not state.consented:
        consent_page(store, study)
    elif not state.instructed:
        instructions_page(store, study, token, state)
    elif state.trial is not None:
        trial_page(store, study, token, state)
    else:
        completion_page(store, study, token)


# --------------------------------------------------------------------------- admin


def _check_admin(expected: str) -> None:
    entered = st.session_state.get("admin_token_input", "")
    if entered and hmac.compare_digest(entered.encode(), expected.encode()):
        st.session_state["admin_ok"] = True
    elif entered:
        st.session_state["flash"] = ("error", "Wrong admin token.")


def admin_page(store, study) -> None:
    st.title(f"Study admin: {study.name}")
    expected = os.environ.get(ADMIN_ENV, "")
    if not expected:
        st.error(f"The admin page is disabled: start the server with {ADMIN_ENV} set.")
        return
    if not st.session_state.get("admin_ok"):
        flash = st.session_state.pop("flash", None)
        if flash:
            st.error(flash[1])
        st.text_input("Admin token", type="password", key="admin_token_input", on_change=_check_admin, args=(expected,))
        return
    participants = store.export_participants()
    votes = store.export_votes()
    gold = [v for v in votes if v["kind"] == "gold"]
    cols = st.columns(5)
    cols[0].metric("Participants", len(participants))
    cols[1].metric("Consented", sum(p["consented_at"] is not None for p in participants))
    cols[2].metric("Completed", sum(p["completed_at"] is not None for p in participants))
    cols[3].metric("Votes", len(votes))
    cols[4].metric("Gold correct", f"{sum(bool(v['correct']) for v in gold)}/{len(gold)}")
    per_method: dict[str, dict[str, int]] = {}
    for v in votes:
        if v["kind"] != "main":
            continue
        for m in v["shown"]:
            per_method.setdefault(m, {"method": m, "shown": 0, "picked": 0})["shown"] += 1
        if v["choice"]:
            per_method[v["choice"]]["picked"] += 1
    st.subheader("Main trials per method")
    st.table(sorted(per_method.values(), key=lambda r: -r["picked"]))
    st.subheader("Participants")
    st.dataframe(participants)
    st.download_button("Download votes.csv", csv_text(votes), "votes.csv", "text/csv")
    st.download_button("Download participants.csv", csv_text(participants), "participants.csv", "text/csv")
    st.caption(f"Study definition: {json.dumps({'design': study.design, 'methods': study.studied})}")


# --------------------------------------------------------------------------- main


def main() -> None:
    st.set_page_config(page_title="Video study", layout="wide")
    url = os.environ.get(DB_ENV)
    if not url:
        st.error(f"No study database: start the app with `void study serve --db URL` (sets {DB_ENV}).")
        st.stop()
    try:
        store = get_store(url)
        study = store.definition()
    except StoreError as exc:
        st.error(str(exc))
        st.stop()
    if "admin" in st.query_params:
        admin_page(store, study)
    else:
        participant_flow(store, study)


main()
