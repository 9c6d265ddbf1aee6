"""Turn a patient's text into tokens the safety screen can match, however it was typed.

Each position keeps every reading of the word (as typed, text-speak expanded, spelling
corrected), each reduced to its Snowball stem, so a rule can match any of them: recall
matters more here than picking the one right spelling. "cnt breth" reads as "cant breath",
"bleedin heavly" as "bleeding heavily", "sooo dizzyyy" as "so dizzy".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import snowballstemmer
from symspellpy import SymSpell, Verbosity

# Text-speak and slang that no spelling dictionary knows, expanded before anything else.
# One entry may become several words ("wanna" -> "want to").
TEXT_SPEAK: dict[str, str] = {
    "cnt": "cant", "cannt": "cant", "carnt": "cant", "cant": "cant", "caint": "cant",
    "wont": "wont", "wnt": "wont", "dont": "dont", "dnt": "dont", "didnt": "didnt",
    "isnt": "isnt", "aint": "isnt", "wasnt": "wasnt", "doesnt": "doesnt", "dsnt": "doesnt",
    "im": "i am", "ive": "i have", "id": "i would", "ill": "i will",
    "hes": "he is", "shes": "she is", "theyre": "they are", "its": "it is", "thats": "that is",
    "u": "you", "ya": "you", "yu": "you", "ur": "your", "r": "are", "n": "and",
    "wrk": "work", "wrks": "works", "wrkin": "working", "wrking": "working", "hlp": "help",
    "gd": "good", "bd": "bad", "b": "be", "c": "see", "wiv": "with", "wid": "with", "ov": "of",
    "ne": "any",
    "2day": "today", "2nite": "tonight", "2night": "tonight", "tonite": "tonight",
    "2moro": "tomorrow", "tmrw": "tomorrow", "b4": "before", "gna": "going to",
    "gonna": "going to", "wanna": "want to", "wana": "want to", "gotta": "got to",
    "dunno": "do not know", "pls": "please", "plz": "please", "ppl": "people",
    "bc": "because", "cos": "because", "coz": "because", "cuz": "because",
    "wen": "when", "wot": "what", "wat": "what", "sum": "some", "sumthin": "something",
    "smth": "something", "nuthin": "nothing", "nothin": "nothing", "v": "very",
    "rly": "really", "rlly": "really", "realy": "really", "sooo": "so", "abt": "about",
    "bk": "back", "hr": "hour", "hrs": "hours", "min": "minutes", "mins": "minutes",
    "sec": "seconds", "secs": "seconds", "tabs": "tablets", "tabz": "tablets",
    "meds": "medication", "pils": "pills", "hosp": "hospital", "amb": "ambulance",
    "bf": "boyfriend", "gf": "girlfriend", "hubby": "husband", "oh": "oh",
    "me": "me", "meself": "myself", "mysef": "myself", "myslef": "myself",
    "selfharm": "self harm", "selfharming": "self harming", "sh": "sh",
    "kms": "kill myself", "unalive": "kill", "unaliving": "killing",
    "od": "overdose", "oded": "overdosed", "odd": "odd", "ods": "overdose",
    "a&e": "ae", "ane": "ae", "tia": "tia", "dv": "domestic violence",
    "fit": "fit", "fitin": "fitting", "fittin": "fitting", "breathin": "breathing",
    "bleedin": "bleeding", "nothin'": "nothing", "tummy": "tummy", "belly": "belly",
    "poorly": "poorly", "sicky": "sick", "chucking": "throwing", "puking": "vomiting",
    "spewing": "vomiting", "boke": "vomit", "wee": "wee", "poo": "poo",
    # Phonetic spellings too far from the word for an edit-distance corrector.
    "tung": "tongue", "tounge": "tongue", "toung": "tongue", "brethe": "breathe",
    "breeve": "breathe", "breev": "breathe", "sezure": "seizure", "siezure": "seizure",
    "fone": "phone", "chcks": "checks", "hom": "home", "kil": "kill", "tuk": "took", "seasure": "seizure", "seazure": "seizure", "seisure": "seizure",
    "wurst": "worst", "wurse": "worse", "harts": "hearts", "hart": "heart", "nite": "night",
}
# Emoji that carry meaning for the screen; every other symbol is dropped.
EMOJI_WORDS: dict[str, str] = {
    "\U0001FA78": " blood ", "\U0001F48A": " tablets ", "\U0001F52A": " knife ",
    "\U0001F92E": " vomit ", "\U0001F922": " sick ", "\U0001FAC0": " heart ",
    "\U0001FAC1": " lungs ", "\U0001F691": " ambulance ", "\U0001F480": " dead ",
    "\U0001F198": " help ", "\U0001FAA6": " grave ", "\U0001F975": " hot ",
    "\U0001F976": " cold ",
}
# Words the spelling corrector must leave alone (and may correct towards): the screen's own
# medical and colloquial vocabulary, added to the dictionary with a high count.
DOMAIN_WORDS = (
    "paracetamol ibuprofen codeine cocodamol naproxen sertraline citalopram fluoxetine "
    "mirtazapine diazepam zopiclone tramadol morphine oramorph insulin warfarin apixaban "
    "epipen adrenaline anaphylaxis anaphylactic allergic hives sepsis septic mottled "
    "seizure seizures fitting convulsing convulsions epileptic unresponsive unconscious "
    "overdose overdosed suicidal suicide selfharm haemorrhage hemorrhage bleeding vomiting "
    "breathless breathlessness wheezing wheezy inhaler nebuliser drooping droopy slurred "
    "slurring numbness tingling thunderclap lethargic floppy drowsy delirious clammy "
    "samaritans ambulance paramedics stroke tia angina gtn palpitations miscarriage "
    "pregnant pregnancy bleach batteries liquitabs antifreeze weedkiller tummy poorly "
    "mum mam mom dad nan nana grandad hubby wifey partner carer antidepressant antidepressants "
    "codamol urticaria nosebleed nosebleeds blanching psyching psyched"
).split()
MAX_EDIT_DISTANCE = 2

_stemmer = snowballstemmer.stemmer("english")


@dataclass(frozen=True)
class Token:
    """One word of the message (as read, text-speak expanded) and every stem it may stand for."""

    word: str
    best: str  # the single likeliest reading, for phrase patterns
    readings: frozenset[str]  # the word as typed, expanded and spelling-corrected
    stems: frozenset[str]  # those readings and their stems


@lru_cache(maxsize=1)
def _speller() -> SymSpell:
    speller = SymSpell(max_dictionary_edit_distance=MAX_EDIT_DISTANCE, prefix_length=7)
    dictionary = resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    speller.load_dictionary(str(dictionary), term_index=0, count_index=1)
    for word in DOMAIN_WORDS:
        speller.create_dictionary_entry(word, 10**9)
    return speller


def warm_up() -> None:
    """Load the spelling dictionary now (a few seconds) rather than on the first message."""
    _speller()


def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _squeeze(word: str) -> list[str]:
    """Readings of a word with stretched letters: "sooooo" -> ["soo", "so"]."""
    squeezed = re.sub(r"(.)\1{2,}", r"\1\1", word)
    once = re.sub(r"(.)\1+", r"\1", word)
    return list(dict.fromkeys([squeezed, once]))


def _corrections(word: str) -> list[str]:
    """The likeliest dictionary words for an unknown word (up to three equally close)."""
    if len(word) < 4 or not word.isalpha():
        return []
    speller = _speller()
    if word in speller.words:
        return []
    found = []
    if word.endswith("in") and f"{word}g" in speller.words:  # dropped g: "chokin", "bleedin"
        found.append(f"{word}g")
    distance = 1 if len(word) <= 5 else MAX_EDIT_DISTANCE
    suggestions = speller.lookup(word, Verbosity.CLOSEST, max_edit_distance=distance)
    return found + [s.term for s in suggestions[:3]]


def _split_glued(word: str) -> list[str] | None:
    """Words run together ("chestpain", "cantbreathe") split into dictionary words."""
    speller = _speller()
    if len(word) < 7 or not word.isalpha() or word in speller.words:
        return None
    parts = speller.word_segmentation(word, max_edit_distance=0).corrected_string.split()
    if len(parts) < 2 or any(len(p) < 2 or p not in speller.words for p in parts):
        return None
    return parts


def clean(text: str) -> str:
    """Lower case, plain letters, meaningful emoji as words, everything else a space."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    for emoji, word in EMOJI_WORDS.items():
        text = text.replace(emoji, word)
    text = text.replace("a&e", " ae ").replace("a+e", " ae ").replace("a & e", " ae ")
    # he'll -> he will (not "hell"), they're -> they are; then can't -> cant, i'm -> im.
    text = re.sub(r"(?<=[a-z])'ll\b", " will", text)
    text = re.sub(r"(?<=[a-z])'re\b", " are", text)
    text = re.sub(r"(?<=[a-z])'ve\b", " have", text)
    text = re.sub(r"(?<=[a-z])'d\b", " would", text)
    text = re.sub(r"(?<=[a-z])'(?=[a-z])", "", text)
    text = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)(?!day|nite|night|moro)", " ", text)
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def words(text: str) -> list[str]:
    """The message as plain words, text-speak expanded (no spelling correction)."""
    expanded: list[str] = []
    for word in clean(text).split():
        expanded.extend(TEXT_SPEAK.get(word, word).split())
    return expanded


def tokens(text: str) -> list[Token]:
    """Every word with all its readings, stemmed: what the lexicon matches against."""
    result: list[Token] = []
    for raw in clean(text).split():
        expansion = TEXT_SPEAK.get(raw)
        if raw.isdigit() and int(raw) >= 8 and len(raw) <= 3:
            # "took 30 co-codamol": a count this big reads as a quantity concept too.
            result.append(Token("manynumber", raw, frozenset({raw}), frozenset({raw})))
            continue
        if expansion is None and (parts := _split_glued(raw)):
            expansion = " ".join(TEXT_SPEAK.get(part, part) for part in parts)
        if expansion is not None and " " in expansion:
            result.extend(Token(part, part, frozenset({part}), frozenset({stem(part), part}))
                          for part in expansion.split())
            continue
        if expansion is not None:  # known text-speak: no guessing at its spelling
            result.append(Token(expansion, expansion, frozenset({raw, expansion}),
                                frozenset({raw, expansion, stem(expansion)})))
            continue
        readings = {raw}
        if raw not in _speller().words:
            for variant in _squeeze(raw):
                readings.add(TEXT_SPEAK.get(variant, variant))
        best = raw
        for reading in sorted(readings, key=len):
            corrections = _corrections(reading)
            readings.update(corrections)
            if best == raw and corrections:
                best = corrections[0]
        result.append(Token(raw, best, frozenset(readings),
                            frozenset({stem(r) for r in readings} | readings)))
    return result
