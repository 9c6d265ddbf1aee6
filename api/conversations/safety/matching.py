"""Match the concept lexicon against a message's tokens, minding what makes a match harmless.

A match is set aside only for reasons that are general and narrow:
- negated at its start ("no chest pain", "never had a fit", "don't feel suicidal");
- resolved after it ("the bleeding has stopped", "the swelling has gone down");
- in the past with nothing saying it is happening now ("a stroke two years ago");
- the name of a service ("the stroke clinic", "my chest pain appointment");
- an idiom ("this wait is killing me", "dying to know", "nearly gave me a heart attack"),
  which is blanked out before matching.
Everything else stays flagged: a false alarm costs a kind message and a staff look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.conversations.safety.lexicon import RULES, Phrase, Rule
from api.conversations.safety.normalise import Token, clean, tokens

# Idioms that use emergency words for everyday feelings; they are blanked before matching.
IDIOMS = re.compile(
    r"\b(dying|dieing|dyin) (to|for) \w+|"
    r"\b(this|the|it|its|it is|all this|that|not knowing|waiting|wait|suspense|uncertainty"
    r"|stress) (is |has been |are |was )?(really |proper |literally |absolutely )?"
    r"(killing|kill) (me|us)\b|"
    r"\b(gave|give|giving|nearly had|almost had|nearly gave|almost gave) (me |my \w+ |him "
    r"|her )?(a |an )?(heart attack|stroke|coronary|seizure|fit)\b( when| reading| seeing| at"
    r"| after| with| over)?|"
    r"\b(heart attack|seizure|fit) (when|reading|seeing|after seeing|after reading) \w+|"
    r"\b(bored|sick|scared|worried|frozen|freezing|tired) (to|2) death\b|"
    r"\b(sick|tired) (and tired )?of (waiting|this|it|being messed|the|you|your|these|all)\b|"
    r"\b(would|d|could|i ll|ill|i will)( honestly| literally)? (rather|sooner) (die|kill|be "
    r"dead)\b[\w ]{0,25}\b(than|before)\b|"
    r"\bcould (kill|murder|strangle) (him|her|them|you|someone|somebody|the)\b|"
    r"\b(die|died|dying|dead) of (embarrassment|shame|boredom|laughing)\b|"
    r"\bkill (for|two birds)\b|\bdead (end|easy|good|nice|chuffed|happy|keen|excited|on)\b|"
    r"\b(over my dead body|drop dead gorgeous|to die for|killing time|kill time)\b|"
    r"\b(breathe|breathing|breath) (easy|easier|a sigh|sigh)\b|\bsigh of relief\b|"
    r"\b(hold|holding|held) (my|our|your) breath\b|\btake (my|your) breath away\b|"
    r"\b(cant|can not|cannot) breathe a word\b|\b(my )?heart (sank|sinks|dropped|broke|"
    r"skipped a beat|is in my mouth|was in my mouth|goes out)\b|\bbreathing down\b|"
    r"\bpain in the (neck|arse|backside|bum|butt)\b|\b(head|heads) (up|spinning)\b|"
    r"\bfit (me|us|him|her|them|it|you) in\b|\bfitting (me|us|him|her|them|it|you) in\b|"
    r"\bfits (me|us|in|with|around|round)\b|\b(keep|keeping|get|getting) fit\b|"
    r"\bbleeding (obvious|heck|hell|ridiculous|joke|nightmare|nuisance)\b|"
    r"\b(last|final) straw\b|\bchoked up\b|\b(nearly|almost) choked\b|"
    r"\bchoking on (all )?(this|the|all the) (red tape|paperwork|admin|bureaucracy|forms?)\b|"
    r"\b(killing|kill|killed) (myself|meself|ourselves) laughing\b|"
    r"\b(bang|banging|banged) (my|our|your) heads? (against|on) (a|the) (brick )?wall\b|"
    r"\bhanging on by a thread\b|\b(nearly|almost) (passed out|fainted|died|"
    r"collapsed|had a fit|keeled over)\b( \w+)? (when|at|seeing|reading|over)\b|"
    r"\b(going|gone|went|drive|driving|drives) (me )?(mad|crazy|"
    r"round the bend|up the wall)\b|\b(make|makes|made|making) (me|my) (sick|ill)\b"
    r"(?! with| to my)|\b(blood|bloods) (test|tests|testing|results|result|form|forms|"
    r"pressure|sugar|sugars|clinic|taken|draw|work|count|thinner|thinners|transfusion|"
    r"donation|donor|bank|group|type|cells)s?\b|\bblood tests?\b",
)
NEGATORS = frozenset({"no", "not", "never", "without", "nt", "none", "denies", "negative",
                      "isnt", "wasnt", "arent", "didnt", "havent", "hasnt", "dont", "doesnt"})
# Negations that describe the emergency itself ("can't breathe", "won't wake") sit inside
# rules; these only count when they come right before a match.
NEGATION_REACH = 3
RESOLVED = frozenset({"stopped", "settled", "cleared", "gone", "eased", "resolved", "healed",
                      "better", "fine", "ok", "okay", "normal", "disappeared", "subsided",
                      "improved", "improving", "fixed", "sorted", "passed", "over", "free",
                      "controlled", "managed", "stable", "went"})
STILL = frozenset({"not", "nt", "hasnt", "havent", "isnt", "never", "wont", "still", "no"})
PAST_MARKERS = re.compile(
    r"\b(years?|yrs?|months?|decades?) ago\b|\blast (year|summer|winter|spring|autumn|"
    r"christmas)\b|\b(in|back in|since) (19|20)\d\d\b|\bas a (child|kid|baby|teenager)\b|"
    r"\bwhen i was (young|little|a|younger|small|at)\b|\b(history of|used to|previous|"
    r"previously|in the past|years back|long time ago|while back|ages ago|back then|"
    r"had one before|a few years|a while ago|back in|turned out|in the end|was just|all clear|"
    r"was fine|were fine|no more since|none since|fine since|ok since|well controlled|"
    r"under control|always (have|had|has|get|gets)|like always|as always|as usual|"
    r"same as (always|usual|ever|before|its been)|for years|no worse|no different|"
    r"not changed|hasnt changed|back to (herself|himself|normal|myself|themselves))\b|"
    r"\b(had|was|were|did)\b[^.!?]{0,40}\b(in|back in) (january|february|march|april|may|"
    r"june|july|august|september|october|november|december|the summer|the winter|the spring"
    r"|the autumn)\b|\b(went|gone|cleared|settled|resolved) (within|after|in) \w+")
NOW_MARKERS = re.compile(
    r"\b(again|today|tonight|this (morning|afternoon|evening)|right now|at the moment|"
    r"currently|since (this|last night|yesterday|this morning)|happening now|keeps? (on )?"
    r"(happening|coming)|started|starting|getting worse|an hour|for \d+ (hours|minutes|mins)|"
    r"and now|but now)\b")
# Words that make a preceding match the name of a service, not an event.
SERVICE_WORDS = frozenset({
    "clinic", "clinics", "unit", "team", "ward", "nurse", "nurses", "consultant", "department",
    "service", "services", "scan", "scans", "xray", "x", "test", "tests", "appointment",
    "appointments", "appt", "appts", "review", "follow", "followup", "specialist", "rehab",
    "rehabilitation", "physio", "echo", "ecg", "results", "doctor", "doctors", "check",
    "checkup", "checks", "op", "operation", "surgery", "clinician", "referral", "support",
    "group", "study", "trial", "medication", "tablets", "meds", "prevention", "centre",
    "center", "people", "patients", "clinic's", "monitor", "monitoring", "assessment",
    "letter", "list", "waiting", "outpatients", "outpatient", "specialty", "dept", "mri",
    "ct", "bloods", "note", "notes", "disorder", "disorders", "nursing", "coordinator",
    "liaison", "physician",
})
CLAUSE_BREAKS = re.compile(r"[.,;!?\n]+|\s(?:but|though|although|however|anyway|also)\s")


@dataclass(frozen=True)
class Match:
    category: str
    start: int
    end: int
    rule: int  # index in lexicon.RULES (for tuning and the benchmark)


@dataclass
class Prepared:
    """A message ready for the rules: tokens, their clause and raw word, past/now markers."""

    tokens: list[Token]
    words: list[str]
    sentence_of: list[int]
    best: str  # the likeliest reading of the whole message, clauses joined by " , "
    clause_of: list[int]
    past_clauses: set[int]


def prepare(text: str) -> Prepared:
    text = IDIOMS.sub(" , ", clean_keep_breaks(text))
    all_tokens: list[Token] = []
    all_words: list[str] = []
    clause_of: list[int] = []
    sentence_of: list[int] = []
    past: set[int] = set()
    readings: list[str] = []
    sentences = re.split(r"[.!?\n]+", text)
    past_sentences = [bool(PAST_MARKERS.search(sentence) and not NOW_MARKERS.search(sentence))
                      for sentence in sentences]
    clauses = [(number, clause) for number, sentence in enumerate(sentences)
               for clause in CLAUSE_BREAKS.split(sentence)]
    for index, (sentence_number, clause) in enumerate(clauses):
        clause_tokens = tokens(clause)
        readings.append(" ".join(t.best for t in clause_tokens))
        all_tokens.extend(clause_tokens)
        all_words.extend(t.word for t in clause_tokens)
        clause_of.extend([index] * len(clause_tokens))
        sentence_of.extend([sentence_number] * len(clause_tokens))
        if past_sentences[sentence_number]:
            past.add(index)
    return Prepared(all_tokens, all_words, sentence_of, " , ".join(readings), clause_of, past)


def clean_keep_breaks(text: str) -> str:
    """`clean`, but keeping sentence punctuation so clauses can be told apart."""
    parts = re.split(r"([.,;!?\n]+)", text)
    return " ".join(part if re.fullmatch(r"[.,;!?\n]+", part) else clean(part)
                    for part in parts)


def _hit(token: Token, group: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    if token.stems & group or f"={token.word}" in group:
        return True
    return any(s.startswith(p) for p in prefixes for s in token.stems)


def _find(rule: Rule, message: Prepared) -> list[tuple[int, int]]:
    """(start, end) spans where the rule matches, each inside one sentence."""
    toks, clause_of, sentence_of = message.tokens, message.clause_of, message.sentence_of
    count = len(toks)
    hits = [[i for i, t in enumerate(toks) if _hit(t, g, p)]
            for g, p in zip(rule.groups, rule.prefixes, strict=True)]
    if any(not h for h in hits):
        return []
    spans = []
    if rule.ordered:
        for first in hits[0]:
            position, ok = first, True
            for later in hits[1:]:
                nxt = next((i for i in later if position < i <= position + rule.reach + 1
                            and sentence_of[i] == sentence_of[first]), None)
                if nxt is None:
                    ok = False
                    break
                position = nxt
            if ok:
                spans.append((first, position))
        return spans
    for anchor in hits[0]:
        low, high = max(0, anchor - rule.reach), min(count - 1, anchor + rule.reach)
        chosen = [anchor]
        for others in hits[1:]:
            inside = [i for i in others if low <= i <= high and i not in chosen
                      and sentence_of[i] == sentence_of[anchor]]
            if not inside:
                break
            # Nearest to the anchor, preferring its own clause.
            chosen.append(min(inside, key=lambda i: (clause_of[i] != clause_of[anchor],
                                                     abs(i - anchor))))
        else:
            if max(chosen) - min(chosen) <= rule.reach:
                spans.append((min(chosen), max(chosen)))
    return spans


def _harmless(rule: Rule, span: tuple[int, int], message: Prepared) -> str | None:
    """Why a match is not an emergency ("negated", "resolved", "past", "service"), if so."""
    start, end = span
    clause = message.clause_of[start]
    before = [i for i in range(max(0, start - NEGATION_REACH), start)
              if message.clause_of[i] == clause]
    if any(message.tokens[i].stems & NEGATORS for i in before):
        return "negated"
    after = [i for i in range(end + 1, min(len(message.tokens), end + 5))
             if message.clause_of[i] == clause]
    for position in after:
        if message.words[position] in RESOLVED and not any(
                message.words[p] in STILL for p in range(max(start, position - 2), position)):
            return "resolved"
    if clause in message.past_clauses:
        return "past"
    if (rule.clinic_sensitive and end + 1 < len(message.words)
            and message.words[end + 1] in SERVICE_WORDS):
        return "service"
    return None


def matches(text: str) -> list[Match]:
    """Every rule match that is not set aside, in rule order."""
    return read(text)[0]


def read(text: str) -> tuple[list[Match], int]:
    """The matches, and how many rules matched only where the words were negated."""
    message = prepare(text)
    found: list[Match] = []
    negated = 0
    for index, rule in enumerate(RULES):
        if isinstance(rule, Phrase):  # phrase patterns read the likeliest spelling
            if rule.pattern.search(message.best):
                found.append(Match(rule.category, 0, 0, index))
            continue
        reasons = []
        for span in _find(rule, message):
            reason = _harmless(rule, span, message)
            if reason is None:
                found.append(Match(rule.category, *span, index))
                break
            reasons.append(reason)
        else:
            negated += bool(reasons) and all(r == "negated" for r in reasons)
    return found, negated
