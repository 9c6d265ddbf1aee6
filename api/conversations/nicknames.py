"""Common short forms of English first names, so "tom" finds Thomas on a shared phone.

Only used to choose which person on a shared number is writing; their date of birth still
has to match before anything is disclosed. A short form may belong to several names
("chris", "sam"), and then every person it fits stays a candidate.
"""

from __future__ import annotations

_FULL_NAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abi", "abby", "abbie"),
    "alexander": ("alex", "al", "sandy", "xander"),
    "alexandra": ("alex", "lexi", "sandra", "sandy"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "benjamin": ("ben", "benny", "benji"),
    "catherine": ("cath", "cathy", "kate", "katie", "cat"),
    "charles": ("charlie", "chas", "chuck"),
    "charlotte": ("charlie", "lottie", "lotte"),
    "christine": ("chris", "chrissie", "tina"),
    "christopher": ("chris", "kit"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davy"),
    "deborah": ("debbie", "deb", "debs"),
    "edward": ("ed", "eddie", "ted", "teddy", "ned"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby", "lisa"),
    "frederick": ("fred", "freddie"),
    "gregory": ("greg",),
    "henry": ("harry", "hal"),
    "jacqueline": ("jackie", "jacqui"),
    "james": ("jim", "jimmy", "jamie"),
    "jennifer": ("jen", "jenny", "jenni"),
    "john": ("jack", "johnny"),
    "jonathan": ("jon", "jonny"),
    "joseph": ("joe", "joey"),
    "josephine": ("jo", "josie"),
    "joanne": ("jo",),
    "katherine": ("kate", "katie", "kath", "kathy", "kat"),
    "kathryn": ("kate", "katie", "kath", "kathy"),
    "kenneth": ("ken", "kenny"),
    "lawrence": ("larry", "laurie"),
    "leonard": ("len", "lenny", "leo"),
    "margaret": ("maggie", "meg", "peggy", "maggy", "marge"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mick", "mikey", "micky"),
    "nicholas": ("nick", "nicky"),
    "patricia": ("pat", "patsy", "trish", "tricia"),
    "patrick": ("pat", "paddy"),
    "peter": ("pete",),
    "philip": ("phil", "pip"),
    "rebecca": ("becky", "becca", "bex"),
    "richard": ("rich", "richie", "rick", "ricky", "dick"),
    "robert": ("rob", "robbie", "bob", "bobby", "bert"),
    "samantha": ("sam", "sammy"),
    "samuel": ("sam", "sammy"),
    "stephen": ("steve", "stevie"),
    "steven": ("steve", "stevie"),
    "susan": ("sue", "susie", "suzy"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "vicki", "tori"),
    "william": ("will", "bill", "billy", "liam", "willie"),
}

# short form -> the full names it may stand for
_SHORT_FORMS: dict[str, frozenset[str]] = {}
for _full, _shorts in _FULL_NAMES.items():
    for _short in _shorts:
        _SHORT_FORMS[_short] = _SHORT_FORMS.get(_short, frozenset()) | {_full}


def same_first_name(written: str, recorded: str) -> bool:
    """True when `written` is a usual short form of `recorded`, or the other way round
    (the record may hold "Tom" and the patient write "Thomas"). Both lower case."""
    return (recorded in _SHORT_FORMS.get(written, ())
            or written in _SHORT_FORMS.get(recorded, ())
            or bool(_SHORT_FORMS.get(written, frozenset()) & _SHORT_FORMS.get(recorded,
                                                                              frozenset())))
