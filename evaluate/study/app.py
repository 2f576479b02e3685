"""The preference-study app (Streamlit script), run by ``void study serve``.

Participants: consent -> instructions -> trials -> completion code. The resume link
(``?token=...``) carries only the server-issued token and continues at the first unanswered
trial. A crowd platform's id (``?PROLIFIC_PID=...``, or the study's ``external_id_params``)
has one session: a repeated id continues it. Videos reach the page under per-session random
names with salted bytes; the page says when they all play, and answers are timed from then.
The completion page gives the code only. Admins: ``?admin=1`` asks for
``VOID_STUDY_ADMIN_TOKEN`` (rate-limited, failures logged).

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

from evaluate.study.config import ADMIN_ENV, DB_ENV


@st.cache_resource(show_spinner=False)
def get_store(url: str):
    return open_store(url)  # upgrades the schema to head once per server process


# --------------------------------------------------------------------------- videos


def _session_media(store, trial) -> dict[str, str]:
    """This session's URLs for the trial's videos: ``source``, ``marked`` (the object
    outlined, when shown), ``c0``, ``c1``... Each video gets freshly salted bytes under a
    random name for this participant (:func:`media.salted`), so identical files never share
    an address or bytes and a URL names no method, sample or content hash. Kept for the
    current trial only, so reruns reuse the same URLs."""
    cached = st.session_state.get("media")
    if not cached or cached["trial"] != trial.trial_id:
        ids = {"source": trial.source_video, **{f"c{i}": v for i, v in enumerate(trial.candidate_videos)}}
        files = {}
        for slot, vid in ids.items():
            data, mime = media.read(store, vid)
            files[slot] = (media.salted(data, mime), mime, media.session_name())
        if trial.marked_source:
            files["marked"] = (media.salted(marked_bytes(store.url, trial.source_video), "video/mp4"), "video/mp4", media.session_name())
        cached = st.session_state["media"] = {"trial": trial.trial_id, "files": files}
    return {slot: _media_url(*f) for slot, f in cached["files"].items()}


def _media_url(data: bytes, mime: str, name: str) -> str:
    from streamlit import runtime

    if runtime.exists():
        # Streamlit's media endpoint serves these bytes with range requests, as for st.video;
        # the file id hashes the (salted) bytes and the random name.
        return runtime.get_instance().media_file_mgr.add(data, mime, f"void-study.{name}", file_name=name)
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@st.cache_data(show_spinner=False, max_entries=64)
def marked_bytes(url: str, source_video: int) -> bytes:
    """The source with the object outlined, encoded once per server process and video."""
    return media.overlay(get_store(url), source_video)


PLAYER_CSS = """
.player { font-family: sans-serif; }
.row { display: flex; justify-content: center; gap: 6px; }
figure { margin: 0; flex: 1 1 0; min-width: 0; max-width: 50%; text-align: center; position: relative; }
figcaption { font-weight: 600; margin: 2px 0; font-size: 0.95rem; }
video { width: 100%; aspect-ratio: var(--aspect); max-height: 30vh; object-fit: contain; background: #111; display: block; }
video.hidden { display: none; }
label.toggle { display: block; font-size: 0.85rem; margin: 2px 0 4px; cursor: pointer; }
"""

PLAYER_JS = r"""
export default function(component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".player");
  if (root.dataset.trial === String(data.trial)) return;  // a rerun of the same trial: keep playing
  root.dataset.trial = String(data.trial);
  root.dataset.started = "0";
  root.style.setProperty("--aspect", data.aspect);
  const esc = s => String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
  const vid = (url, cls) => `<video class="${cls}" muted playsinline preload="auto" src="${esc(url)}"></video>`;
  const toggle = data.marked ? `<label class="toggle"><input type="checkbox" class="mark" checked> Show the object to remove</label>` : "";
  root.innerHTML =
    `<div class="row"><figure><figcaption>Original</figcaption>${toggle}` +
    vid(data.source, data.marked ? "source hidden" : "source") + (data.marked ? vid(data.marked, "marked") : "") +
    `</figure></div><div class="row">` +
    data.candidates.map((u, i) => `<figure><figcaption>${esc(data.labels[i])}</figcaption>${vid(u, "candidate")}</figure>`).join("") +
    `</div>`;
  const vids = Array.from(root.querySelectorAll("video"));
  const leader = vids[0];
  const box = root.querySelector("input.mark");
  if (box) box.addEventListener("change", () => {
    root.querySelector("video.source").classList.toggle("hidden", box.checked);
    root.querySelector("video.marked").classList.toggle("hidden", !box.checked);
  });
  let reported = false;
  function startAll() {
    vids.forEach(v => { v.muted = true; v.currentTime = 0; v.play().catch(() => {}); });
    root.dataset.started = String(Number(root.dataset.started) + 1);
  }
  function whenReady() {
    if (root.dataset.trial !== String(data.trial)) return;
    if (vids.every(v => v.readyState >= 3)) startAll(); else setTimeout(whenReady, 50);
  }
  function whenPlaying() {
    if (reported || root.dataset.trial !== String(data.trial)) return;
    if (vids.every(v => !v.paused && v.currentTime > 0)) {
      reported = true;
      root.dataset.playingMs = String(Math.round(performance.now()));
      // the server times the answer from here (the page's clock never reaches the vote)
      setTriggerValue("playing", {trial: data.trial});
    } else setTimeout(whenPlaying, 50);
  }
  vids.forEach(v => v.load());
  whenReady();
  whenPlaying();
  leader.addEventListener("ended", startAll);
  root.addEventListener("click", e => { if (e.target.tagName === "VIDEO") startAll(); });
  const sync = setInterval(() => {
    if (root.dataset.trial !== String(data.trial)) return clearInterval(sync);
    if (leader.paused) return;
    vids.slice(1).forEach(v => {
      if (!v.ended && Math.abs(v.currentTime - leader.currentTime) > 0.15) v.currentTime = leader.currentTime;
    });
  }, 500);
}
"""

_player = None


def player():
    global _player
    if _player is None:
        _player = st.components.v2.component("void_study_player", html='<div class="player"></div>', css=PLAYER_CSS, js=PLAYER_JS)
    return _player


def show_videos(store, trial, labels: list[str]) -> None:
    """Source on top (with the object outlined unless the study hides it), candidates
    below; all muted, started together and looping together. The page reports when every
    video plays; answers are timed from then."""
    urls = _session_media(store, trial)
    n = len(trial.candidate_videos)
    data = {
        "trial": trial.trial_id, "labels": labels, "source": urls["source"], "marked": urls.get("marked"),
        "candidates": [urls[f"c{i}"] for i in range(n)], "aspect": f"{trial.width or 16} / {trial.height or 9}",
    }
    result = player()(data=data, key=f"player-{trial.trial_id}", on_playing_change=lambda: None)
    playing = getattr(result, "playing", None)
    if isinstance(playing, dict) and playing.get("trial") == trial.trial_id:
        st.session_state.setdefault("played_at", {}).setdefault(trial.trial_id, time.monotonic())


# --------------------------------------------------------------------------- participant


def _set_token(token: str) -> None:
    st.session_state["token"] = token
    # The resume link: only the token, nothing a platform put in the URL.
    st.query_params.clear()
    st.query_params["token"] = token


def _platform_id(study) -> tuple[str | None, str | None]:
    """The first configured platform-id parameter present in the URL, and its value."""
    return next(((k, st.query_params[k]) for k in study.external_id_params if st.query_params.get(k)), (None, None))


def _start(store, study) -> None:
    token = st.session_state.get("token")
    if token and store.participant(token) is not None:
        return  # a second click on "Continue" that arrived after the first one registered us
    source, external_id = _platform_id(study)
    extra = {k: st.query_params.get(v) for k, v in study.platform_params.items()}
    token = store.create_participant(
        external_id=external_id, external_source=source,
        platform_study_id=extra.get("study_id"), platform_session_id=extra.get("session_id"),
    )
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
    if study.show_mask:
        st.markdown("On the original, the object to remove is outlined in red; untick "
                    "*Show the object to remove* to see the original as it is.")
    st.markdown(f"**The question:** {study.question}")
    st.markdown(f"There are {state.n_trials} trials. Videos are silent and loop; "
                "they may take a moment to load.")
    link = f"?token={token}"
    st.markdown(f"To continue later, keep this link: [resume link]({link})")
    st.button("Start", key="instructions", type="primary", on_click=store.mark, args=(token, "instructions"))


def _vote(store, token: str, trial_id: int, choice: int | None, min_response_s: float) -> None:
    now = time.monotonic()
    shown = st.session_state.setdefault("shown_at", {}).get(trial_id)
    played = st.session_state.setdefault("played_at", {}).get(trial_id)
    # Timed from playback start when the page reported it, else from when the trial was drawn.
    since = played if played is not None else shown
    if since is not None and now - since < min_response_s:
        st.session_state["flash"] = ("warning", "Please watch the videos before answering.")
        return
    ms = lambda t0: None if t0 is None else round((now - t0) * 1000)  # noqa: E731
    try:
        result = store.record_vote(token, trial_id, choice, ms(shown), ms(played))
    except (AccessDenied, InvalidVote) as exc:
        st.session_state["flash"] = ("error", f"That answer was not accepted: {exc}")
        return
    if not result.created and result.choice_position != choice:
        # (the same choice again is just a double click: nothing to say)
        st.session_state["flash"] = ("info", "This trial was already answered (perhaps in another tab); continuing.")
    else:
        st.session_state["saved"] = True


COMPACT_CSS = """<style>
[data-testid="stMainBlockContainer"], .block-container { padding-top: 1.2rem; padding-bottom: 1rem; }
[data-testid="stHeader"] { display: none; }
.question { font-weight: 600; font-size: 1.0rem; margin: 0; }
</style>"""


def trial_page(store, study, token: str, state) -> None:
    trial = state.trial
    n = len(trial.candidate_videos)
    labels = ["Left", "Right"] if n == 2 else [f"Video {i + 1}" for i in range(n)]
    # Compact: on a 390x844 phone the vote buttons sit above the fold.
    st.markdown(COMPACT_CSS, unsafe_allow_html=True)
    st.progress(trial.position / trial.total, text=f"Trial {trial.position + 1} of {trial.total}")
    if st.session_state.pop("saved", False):
        st.toast(f"Saved: answer {trial.position} of {trial.total}", icon=":material/check_circle:")
        st.caption(f":green[:material/check_circle: Saved ({trial.position} of {trial.total} answered)]")
    st.markdown(f'<p class="question">{html.escape(study.question)}</p>', unsafe_allow_html=True)
    show_videos(store, trial, labels)
    st.session_state.setdefault("shown_at", {}).setdefault(trial.trial_id, time.monotonic())
    args = (store, token, trial.trial_id)
    for i, col in enumerate(st.columns(n)):
        col.button(labels[i], key=f"vote-{trial.trial_id}-{i}", on_click=_vote, args=(*args, i, study.min_response_s), width="stretch")
    if trial.allow_tie:
        st.button("Both equally", key=f"vote-{trial.trial_id}-tie", on_click=_vote, args=(*args, None, study.min_response_s), width="stretch")


def completion_page(store, study, token: str) -> None:
    """Thanks and the code; never which methods were shown (the next participant would learn it)."""
    code = store.finish(token)
    st.title("Thank you!")
    st.success("All trials are done and your answers are saved.")
    st.markdown(f"Your completion code: **`{code}`**")
    if study.completion_url:
        st.link_button("Return to the study platform", study.completion_url.format(code=code), type="primary")


def participant_flow(store, study) -> None:
    token = st.session_state.get("token") or st.query_params.get("token")
    if not token:
        # One session per platform id: a repeated PROLIFIC_PID continues its own session.
        token = store.token_for_external(*_platform_id(study))
        if token:
            _set_token(token)
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


@st.cache_resource(show_spinner=False)
def login_limiter():
    from evaluate.study.guard import LoginLimiter

    return LoginLimiter()  # one per server process: every session shares the budget


def _client() -> str:
    return getattr(st.context, "ip_address", None) or "unknown-address"


def _check_admin(expected: str) -> None:
    entered = st.session_state.get("admin_token_input", "")
    if not entered:
        return
    limiter, client = login_limiter(), _client()
    wait = limiter.wait_s(client)
    if wait > 0:
        st.session_state["flash"] = ("error", f"Too many wrong admin tokens; try again in {wait:.0f} s.")
    elif hmac.compare_digest(entered.encode(), expected.encode()):
        st.session_state["admin_ok"] = True
        limiter.succeeded(client)
    else:
        limiter.failed(client)
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
    from evaluate.study import quality

    assessment = {r["participant"]: r for r in quality.assess(votes, participants, study.gold_min_accuracy)}
    for p in participants:
        row = assessment[p["participant"]]
        p["exclude_reasons"] = ", ".join(row["reasons"])
        p["flags"] = "; ".join(row["flags"])
    st.subheader("Participants")
    st.caption("exclude_reasons and flags: what `void study analyze` leaves out by default (see its --include-... options)")
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
