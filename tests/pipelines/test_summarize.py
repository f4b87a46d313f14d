"""Summaries: pure phases (cleaning, chunking, merging, ranking), the extractive path on
hand-written dialogues, and the abstractive path with tiny random models built in the test."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from pipelines.conversation import Turn
from pipelines.summarize import (
    EXTRACTIVE_MODEL_ID,
    SummarizeOptions,
    Summarizer,
    _as_reported_question,
    _chunk,
    _compress,
    _is_question,
    _merge,
    _mmr,
    _similarities,
    _textrank,
)


def _turns(*lines: tuple[str, str]) -> tuple[Turn, ...]:
    return tuple(Turn(index=i, speaker=s, text=t) for i, (s, t) in enumerate(lines))  # type: ignore[arg-type]


# A made-up WeChat chat (industrial consumables), 20 turns.
CHAT = _turns(
    ("customer", "张经理 在吗"),
    ("rep", "在的李总，您说"),
    ("customer", "你们这次切削液报价比去年涨了百分之八 有点高啊"),
    ("customer", "我们采购那边压力很大"),
    ("rep", "理解，今年基础油涨得厉害，我们也是按成本调的"),
    ("customer", "另一家给我们报的便宜不少，你们能不能再降点？"),
    ("rep", "我这边最多能再让两个点，再多要找我们王总批"),
    ("customer", "两个点不够 至少五个点"),
    ("rep", "好的，我今天下午去找王总申请一下"),
    ("customer", "还有上个月那批货 有两桶包装漏了[捂脸]"),
    ("rep", "不好意思😅 拍个照片给我，我安排补发"),
    ("customer", "[图片]"),
    ("customer", "就是这两桶"),
    ("rep", "收到，明天上午就给您补发两桶"),
    ("customer", "补发的时候顺便把质检报告带上"),
    ("rep", "没问题"),
    ("customer", "报价的事周五之前给我个答复 我们下周要定供应商了"),
    ("rep", "好的，周五之前我一定给您回复"),
    ("customer", "行 谢谢"),
    ("rep", "谢谢李总支持"),
)


# ---------------------------------------------------------------------------- cleaning

# fmt: off
COMPRESS_CASES = (
    ("您好，请问报价单发了吗？", "报价单发了吗", "greeting+request"),
    ("亲，这个可以开专票吗[捂脸]", "这个可以开专票吗", "emoticon tag"),
    ("好的 我明天上午发您邮箱😊", "我明天上午发您邮箱", "ack+emoji"),
    ("孙科长，资料我周五前发您", "资料我周五前发您", "vocative"),
    ("价格太高了吧", "价格太高了", "tail particle"),
    ("订单[数字]还没到呢", "订单[数字]还没到", "placeholder kept"),
    ("看下这个 http://example.com/item/1.html", "看下这个", "url dropped"),
    ("进价太高了 超市不愿意压货", "进价太高了，超市不愿意压货", "space as clause separator"),
    ("康师傅那边报得便宜", "康师傅那边报得便宜", "brand, not a vocative"),
    ("对方还没回复", "对方还没回复", "对 without separator stays"),
    ("1. 2026年度报价（含年降）", "2026年度报价（含年降）", "list mark, brackets kept"),
    ("非常抱歉，给您添麻烦了，明天给您补发", "明天给您补发", "apology clauses"),
    ("【收到不支持的消息类型，暂无法显示】", "", "system media note"),
)
# fmt: on


@pytest.mark.parametrize(("raw", "expected"), [c[:2] for c in COMPRESS_CASES], ids=[c[2] for c in COMPRESS_CASES])
def test_summarize_compress(raw: str, expected: str) -> None:
    assert _compress(raw) == expected


# fmt: off
QUESTION_CASES = (
    ("能开专票吗", True), ("返点能到几个？", True), ("什么时候能到", True),
    ("为什么还没发货", True), ("你们有没有等保三级的证明", True),
    ("价格太高了", False), ("我们用了好几年了", False), ("老板还在考虑要不要做", False),
    ("十几箱临期的", False),
)
# fmt: on


@pytest.mark.parametrize(("text", "expected"), QUESTION_CASES, ids=[c[0] for c in QUESTION_CASES])
def test_summarize_is_question(text: str, expected: bool) -> None:
    assert _is_question(text) is expected


# fmt: off
REPORTED_CASES = (
    ("能不能先去看看", "是否能先去看看"),
    ("自提可以吗", "是否可以自提"),
    ("CCS证书有吗", "是否有CCS证书"),
    ("支持私有化部署吗", "是否支持私有化部署"),
    ("别的型号可以一起发吗", "别的型号是否可以一起发"),
    ("你们那边有吗", "你们那边是否有"),
    ("安装周期多久", "安装周期多久"),  # wh-question: kept as is
)
# fmt: on


@pytest.mark.parametrize(("question", "reported"), REPORTED_CASES, ids=[c[0] for c in REPORTED_CASES])
def test_summarize_reported_question(question: str, reported: str) -> None:
    assert _as_reported_question(question) == reported


# ---------------------------------------------------------------------------- chunk / merge


def test_summarize_chunk_respects_budget_and_keeps_all_text() -> None:
    text = "\n".join(f"客户：第{i}句话，内容比较长一些。" for i in range(40))
    chunks = _chunk(text, 50)
    assert len(chunks) > 1
    assert all(len(c) <= 50 for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_summarize_chunk_splits_overlong_line_and_skips_blank_lines() -> None:
    line = "这是一句很长的话。" * 20
    chunks = _chunk(f"\n\n{line}\n  \n", 25)
    assert all(len(c) <= 25 for c in chunks)
    assert "".join(chunks) == line


def test_summarize_chunk_uses_given_token_counter() -> None:
    # Two "tokens" per character: half as much text fits.
    chunks = _chunk("一二三四五六七八九十", 10, count_tokens=lambda s: 2 * len(s))
    assert chunks == ("一二三四五", "六七八九十")


def test_summarize_chunk_rejects_empty_budget() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        _chunk("文本", 0)


def test_summarize_merge_dedups_and_closes_sentences() -> None:
    text, cut = _merge(["客户询问价格。销售表示明天报价", "客户询问价格。客户表示预算不足。", ""], 100)
    assert text == "客户询问价格。销售表示明天报价。客户表示预算不足。"
    assert cut is False


def test_summarize_merge_removes_char_tokenizer_spaces() -> None:
    assert _merge(["客 户 询 问 价 格 。"], 100) == ("客户询问价格。", False)


def test_summarize_merge_caps_length() -> None:
    text, cut = _merge(["客户询问价格。" * 3 + "销售表示会尽快给出正式报价并附上参数对比表。"], 20)
    assert cut is True
    assert len(text) <= 21
    assert text.endswith("。") or text.endswith("…")


# ---------------------------------------------------------------------------- ranking


def test_summarize_mmr_skips_near_duplicates() -> None:
    relevance = [1.0, 0.99, 0.7]
    sim = np.array([[1.0, 0.95, 0.0], [0.95, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert _mmr(relevance, sim, 2) == [0, 2]
    assert _mmr(relevance, sim, 2, trade_off=1.0) == [0, 1]
    assert _mmr(relevance, sim, 5, candidates=[1, 2]) == [1, 2]


def test_summarize_similarities_compare_only_within_the_window() -> None:
    same = frozenset({"报价", "价单", "单发"})
    graph, overlap = _similarities([same, same, same], window=1)
    assert graph[0, 1] > 0 and graph[1, 2] > 0
    assert graph[0, 2] == 0 and overlap[0, 2] == 0
    assert overlap[0, 1] == pytest.approx(1.0)
    assert np.allclose(np.diag(overlap), 1.0)


def test_summarize_long_meeting_stays_bounded() -> None:
    turns = tuple(
        Turn(i, "customer" if i % 2 else "rep", f"第{i}个议题我们讨论一下交付计划和付款节点，你们能不能按月结算？")
        for i in range(400)
    )
    summary = Summarizer().summarize(turns)
    assert 0 < len(summary.text) <= SummarizeOptions().max_chars + 1
    assert len(summary.key_statements) == 3


def test_summarize_textrank_favours_the_central_sentence() -> None:
    sim = np.array([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], dtype=float)
    scores = _textrank(sim)
    assert int(np.argmax(scores)) == 0
    assert scores.mean() == pytest.approx(1.0)
    assert _textrank(np.zeros((0, 0))).shape == (0,)


# ---------------------------------------------------------------------------- extractive path


def test_summarize_extractive_chat() -> None:
    summary = Summarizer().summarize(CHAT)
    assert summary.model_id == EXTRACTIVE_MODEL_ID
    assert summary.truncated is False
    text = summary.text
    assert text.startswith("客户") and text.endswith("。")
    assert "客户询问" in text and "是否能再降点" in text  # the question, reported
    assert "销售" in text and "两个点" in text  # the rep's answer follows it
    for noise in ("在吗", "捂脸", "😅", "谢谢", "您"):
        assert noise not in text
    assert len(text) <= SummarizeOptions().max_chars


def test_summarize_key_statements_are_exact_customer_substrings() -> None:
    summary = Summarizer(SummarizeOptions(max_sentences=3)).summarize(CHAT)
    assert len(summary.key_statements) == 3
    by_index = {t.index: t for t in CHAT}
    for key in summary.key_statements:
        assert key.speaker == "customer"
        assert key.text and key.text in by_index[key.turn].text
    turns = [k.turn for k in summary.key_statements]
    assert turns == sorted(turns)


def test_summarize_boosts_raise_a_turn() -> None:
    plain = Summarizer(SummarizeOptions(max_sentences=1)).summarize(CHAT)
    boosted = Summarizer(SummarizeOptions(max_sentences=1)).summarize(CHAT, boosts={3: 5.0})
    assert plain.key_statements[0].turn != 3
    assert boosted.key_statements[0].turn == 3
    assert "采购那边压力很大" in boosted.text


def test_summarize_keeps_the_reps_commitment() -> None:
    summary = Summarizer().summarize(CHAT)
    assert "周五之前" in summary.text or "明天上午" in summary.text or "今天下午" in summary.text


def test_summarize_skips_a_repeated_point() -> None:
    turns = _turns(
        ("customer", "上次的发票什么时候能寄出来？"),
        ("rep", "财务说这周五统一寄"),
        ("customer", "上次的发票什么时候能寄出来"),
        ("rep", "周五寄，寄出后我把单号发您"),
    )
    text = Summarizer().summarize(turns).text
    assert text.count("发票什么时候能寄出来") == 1


def test_summarize_alternative_question_is_not_an_answer() -> None:
    turns = _turns(
        ("customer", "这个项目先放一放，今年预算用完了"),
        ("rep", "明白，是资金上的安排吗？还是对报价有顾虑"),
        ("customer", "报价没问题，就是没预算"),
        ("rep", "好的，那我下个月初再联系您"),
    )
    text = Summarizer().summarize(turns).text
    assert "对报价有顾虑" not in text
    assert "预算用完了" in text


def test_summarize_empty_and_non_text_turns() -> None:
    s = Summarizer()
    empty = s.summarize([])
    assert (empty.text, empty.key_statements, empty.truncated) == ("", (), False)
    media = (Turn(0, "customer", "", kind="image"), Turn(1, "customer", "[图片]"), Turn(2, "rep", "好的"))
    assert s.summarize(media).text == ""


def test_summarize_single_customer_email() -> None:
    body = (
        "王经理：\n\n您好。贵司上周的报价我们看过了，单价比预算高了百分之十二。"
        "另外我们要求供应商必须提供ISO13485证书，请于下周三前一并发来。\n\n谢谢！\n采购部 赵敏"
    )
    summary = Summarizer().summarize([Turn(0, "customer", body)])
    assert "单价比预算高了百分之十二" in summary.text
    assert summary.text.startswith("客户表示")
    assert all(k.text in body for k in summary.key_statements)


def test_summarize_rep_only_message_is_summarised_as_rep() -> None:
    summary = Summarizer().summarize([Turn(0, "rep", "周总您好，新的报价单已经发到您邮箱，单价降到每桶九百八十元。")])
    assert summary.text.startswith("销售")
    assert "九百八十元" in summary.text


def test_summarize_max_chars_is_a_hard_cap() -> None:
    summary = Summarizer(SummarizeOptions(max_chars=30)).summarize(CHAT)
    assert len(summary.text) <= 31  # may end with "…"
    assert summary.truncated is True


def test_summarize_transformers_backend_needs_a_model() -> None:
    with pytest.raises(ValueError, match="model"):
        Summarizer(SummarizeOptions(backend="transformers"))


# ---------------------------------------------------------------------------- abstractive path


class _SpyGenerator:
    """Counts characters as tokens and echoes a fixed sentence per chunk."""

    model_id = "spy"

    def __init__(self, reply: str = "客户询问价格。") -> None:
        self.reply = reply
        self.calls: list[tuple[str, ...]] = []

    def count_tokens(self, text: str) -> int:
        return len(text)

    def generate(self, chunks: Sequence[str]) -> list[str]:
        self.calls.append(tuple(chunks))
        return [self.reply for _ in chunks]


def test_summarize_abstractive_chunks_generates_and_merges() -> None:
    spy = _SpyGenerator()
    summary = Summarizer(SummarizeOptions(backend="transformers", max_input_tokens=60), generator=spy).summarize(CHAT)
    (chunks,) = spy.calls
    assert len(chunks) > 1 and all(len(c) <= 60 for c in chunks)
    assert chunks[0].startswith("客户：")
    assert summary.text == "客户询问价格。"  # repeated chunk outputs merged once
    assert summary.model_id == "spy"
    assert summary.truncated is False
    assert summary.key_statements  # still extractive, still exact quotes


def test_summarize_abstractive_drops_chunks_beyond_the_cap() -> None:
    spy = _SpyGenerator()
    options = SummarizeOptions(backend="transformers", max_input_tokens=40, max_chunks=2)
    summary = Summarizer(options, generator=spy).summarize(CHAT)
    assert len(spy.calls[0]) == 2
    assert summary.truncated is True


def test_summarize_abstractive_empty_output_falls_back_to_extractive() -> None:
    summary = Summarizer(SummarizeOptions(backend="transformers"), generator=_SpyGenerator(reply=" ")).summarize(CHAT)
    assert summary.model_id == EXTRACTIVE_MODEL_ID
    assert summary.text.startswith("客户")


def _tiny_tokenizer(path: str) -> int:
    """A character-level fast tokenizer built offline; returns its vocabulary size."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted({c for t in CHAT for c in t.text} | set("客户销售：下面是一段和的对话请用中文写简短第三人称摘要说明询问表示回答承诺了什么或。，\n"))
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"\S"), behavior="isolated")
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    tok.save_pretrained(path)
    return len(vocab)


@pytest.mark.parametrize("arch", ["seq2seq", "causal"])
def test_summarize_abstractive_tiny_random_model(tmp_path, arch: str) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    path = str(tmp_path / arch)
    vocab_size = _tiny_tokenizer(path)
    if arch == "seq2seq":
        config = transformers.T5Config(
            vocab_size=vocab_size, d_model=16, d_ff=32, num_layers=1, num_decoder_layers=1, num_heads=2, d_kv=8,
            pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
        )
        model = transformers.T5ForConditionalGeneration(config)
    else:
        config = transformers.GPT2Config(
            vocab_size=vocab_size, n_embd=16, n_layer=1, n_head=2, n_positions=256,
            bos_token_id=1, eos_token_id=1, pad_token_id=0,
        )
        model = transformers.GPT2LMHeadModel(config)
    model.save_pretrained(path)

    options = SummarizeOptions(backend="transformers", max_input_tokens=120)
    summarizer = Summarizer(options, model=path)
    generator = summarizer._generator
    assert generator is not None
    generator._max_new_tokens = 6  # type: ignore[attr-defined]

    chunks = _chunk("客户：报价比去年涨了\n销售：我今天下午申请一下", 120, count_tokens=generator.count_tokens)
    outputs = summarizer._generate(chunks)
    assert len(outputs) == len(chunks) == 1
    assert all(isinstance(o, str) for o in outputs)

    summary = summarizer.summarize(CHAT)
    assert summary.text  # the random model's text, or the extractive fallback when it emits nothing
    assert summary.model_id in (path, EXTRACTIVE_MODEL_ID)
    assert generator.count_tokens("报价") > 2 if arch == "causal" else generator.count_tokens("报价") >= 2


@pytest.mark.parametrize("seed", range(5))
def test_summarize_mmr_small_pools_pick_as_numpy(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The plain-Python path for a few candidates must pick the same units in the same order
    # as the numpy path, ties included (relevances rounded to one decimal make ties common).
    import pipelines.summarize as summarize

    rng = np.random.default_rng(seed)
    for _ in range(200):
        n = int(rng.integers(1, 25))
        sim = rng.random((n, n))
        sim = (sim + sim.T) / 2
        relevance = [float(x) for x in rng.random(n).round(1)]
        candidates = sorted(rng.choice(n, size=int(rng.integers(1, min(n, 12) + 1)), replace=False).tolist())
        k = int(rng.integers(1, 6))
        small = summarize._mmr(relevance, sim, k, candidates=candidates)  # noqa: SLF001
        with monkeypatch.context() as m:
            m.setattr(summarize, "_MMR_SMALL", -1)
            assert summarize._mmr(relevance, sim, k, candidates=candidates) == small  # noqa: SLF001
