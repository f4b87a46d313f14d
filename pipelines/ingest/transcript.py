"""Call and meeting transcripts: ``[hh:mm:ss] 客户: …`` lines, with or without speaker labels.

Labels name a role (客户 / 销售, or a CRM's own words such as 客户经理, 用户, 客服); lines
without a label get their role from content (``pipelines.roles``) and the conversation says the
roles are inferred. A line without a timestamp continues the previous utterance.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pipelines.conversation import Channel, Conversation, Speaker, Turn
from pipelines.ingest.common import iter_lines, role_from_label
from pipelines.ingest.errors import IngestError
from pipelines.roles import infer_roles

__all__ = ["parse_call_transcript"]

_STAMP = re.compile(r"^\s*[\[【]\s*(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:[.,]\d{1,3})?\s*[\]】]\s*")
_BARE_STAMP = re.compile(r"^\s*(\d{1,2}):(\d{2}):(\d{2})(?:[.,]\d{1,3})?\s+")
# "客户:", "销售经理：", "客户A:", "张经理(客户):" — a short label before a colon.
_DIARIZED = re.compile(r"^\s*(说话人|发言人|讲话人|speaker|spk|角色)\s*[a-z0-9一二三四]{1,3}\s*$", re.IGNORECASE)
_LABEL = re.compile(r"^([^:：\s][^:：]{0,15}?)\s*[:：]\s*")


def parse_call_transcript(
    content: str,
    *,
    channel: Channel = "call",
    started_at: datetime | None = None,
) -> Conversation:
    """Parse an ASR/CRM transcript into turns.

    Raises:
        IngestError: when no line carries a ``[hh:mm:ss]`` stamp or stamps are malformed.
    """
    turns: list[dict] = []
    stamped = 0
    for line_no, start, end, line in iter_lines(content):
        if not line.strip():
            continue
        m = _STAMP.match(line) or _BARE_STAMP.match(line)
        if not m:
            if not turns:
                raise IngestError(
                    "expected a '[hh:mm:ss] 客户: …' line; transcripts start every utterance with a time stamp",
                    line=line_no,
                )
            # A continuation of the previous utterance (a wrapped line).
            turns[-1]["end"] = end
            continue
        hours = int(m.group(1) or 0)
        minutes, seconds = int(m.group(2)), int(m.group(3))
        if minutes >= 60 or seconds >= 60:
            raise IngestError(f"bad time stamp {m.group(0).strip()!r}; use [hh:mm:ss]", line=line_no)
        stamped += 1
        pos = start + m.end()
        rest = line[m.end():]
        label_m = _LABEL.match(rest)
        speaker: Speaker = "unknown"
        name = None
        if label_m:
            label = label_m.group(1)
            role = role_from_label(label)
            if role != "unknown" or _DIARIZED.match(label):
                speaker = role
                name = label.strip()
                pos += label_m.end()
        turns.append({
            "offset_s": hours * 3600 + minutes * 60 + seconds,
            "speaker": speaker, "name": name, "start": pos, "end": end, "line": line_no,
        })
    if not stamped:
        raise IngestError("no '[hh:mm:ss]' time stamps found; this does not look like a call transcript")

    unknown = [i for i, t in enumerate(turns) if t["speaker"] == "unknown"]
    inferred = bool(unknown)
    if unknown:
        texts = [content[t["start"]:t["end"]] for t in turns]
        if len(unknown) == len(turns):
            roles = infer_roles(texts)
            for t, r in zip(turns, roles, strict=True):
                t["speaker"] = r
                t["inferred"] = True
        else:
            # Mixed: trust labels, infer only the gaps from their neighbours' alternation.
            roles = infer_roles(texts)
            for i in unknown:
                turns[i]["speaker"] = roles[i]
                turns[i]["inferred"] = True
        # Diarisation labels (说话人1) name one person: give each the majority role of its turns.
        votes: dict[str, list[int]] = {}
        for t in turns:
            if t.get("inferred") and t["name"]:
                votes.setdefault(t["name"], []).append(1 if t["speaker"] == "rep" else -1)
        for t in turns:
            if t.get("inferred") and t["name"] and sum(votes[t["name"]]) != 0:
                t["speaker"] = "rep" if sum(votes[t["name"]]) > 0 else "customer"

    out = []
    for i, t in enumerate(turns):
        text = content[t["start"]:t["end"]].rstrip()
        at = started_at + timedelta(seconds=t["offset_s"]) if started_at else None
        out.append(Turn(
            index=i, speaker=t["speaker"], text=text, name=t["name"], at=at, source="content",
            source_start=t["start"], source_end=t["start"] + len(text), role_inferred=t.get("inferred", False),
        ))
    return Conversation(channel=channel, format="call_transcript", turns=tuple(out), started_at=started_at,
                        roles_inferred=inferred)
