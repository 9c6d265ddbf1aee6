"""The safety screen's concept lexicon: what each red-flag category looks like in words.

Rules are written in plain words and stemmed when the module loads, so "bleeding", "bleeds"
and "bled" meet the same rule. Two shapes:
- `seq`: words in order, each slot a set of alternatives ("a|b"), with at most `gap` other
  words between neighbours ("want to die", "took ... too many ... tablets").
- `near`: every group has a word within `window` words of the others, in any order
  ("chest" near "pain|tight|pressure"; "pain in my chest"; "my chest is so tight").
A trailing `*` matches any word beginning so ("haemorrhag*"); a leading `=` matches the word
exactly as written, unstemmed ("=stop" is "won't stop", not "has stopped").

Groups are general concepts (pain words, body parts, people, severity and time), never a
patient's sentence: a held-out miss is fixed by widening a concept, and logged in
tests/data/README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.conversations.safety.normalise import stem

# -- shared concepts ----------------------------------------------------------------------
PAIN = ("pain|painful|hurt|hurting|ache|aching|agony|sore|tight|tightness|pressure|crushing|"
        "heavy|heaviness|squeezing|squeeze|stabbing|burning|band|gripping|discomfort|twinge|"
        "pains")
PERSON = ("he|she|him|her|they|them|mum|mam|mom|mother|dad|father|husband|wife|partner|son|"
          "daughter|baby|child|kid|toddler|nan|nana|gran|grandma|grandad|grandpa|brother|"
          "sister|boyfriend|girlfriend|friend|neighbour|auntie|uncle|fiance|carer|grandson|"
           "granddaughter|lad|girl|boy|man|woman|someone|somebody")
INGEST = ("took|taken|take|taking|swallowed|swallow|had|downed|necked|ate|eaten|popped|tooken|"
          "done|gone|through|gobbled|emptied|finished|ingested|consumed|put|used|applied|"
          "stuck|injected")
ABUSER = ("he|she|him|her|partner|husband|wife|boyfriend|girlfriend|ex|dad|father|stepdad|"
          "mum|mother|stepmum|son|brother|uncle|family|fiance|they|them|someone|somebody|"
          "nephew|niece|stepfather|stepmother|grandson|carer|lodger|cousin")
SEVERE = ("severe|severely|really|very|terrible|awful|unbearable|excruciating|worst|bad|"
          "badly|extreme|intense|sudden|suddenly|agony|screaming|cant|wont|getting|worse|"
          "proper|massive|huge|crazy")
CHILD = "baby|toddler|child|kid|son|daughter|little|boy|girl|grandson|granddaughter|he|she"
MEDICINE = ("tablet|tablets|pill|pills|paracetamol|ibuprofen|codeine|cocodamol|codamol|"
            "medication|"
            "medicine|meds|capsules|painkillers|=sleeping|antidepressants|sertraline|"
            "citalopram|insulin|diazepam|tramadol|morphine|oramorph|calpol|antidepressants|"
            "iron|vitamins|patches|patch|blister|packs|pack|prescribed|"
            "prescription")
LOTS = ("too|many|much|whole|all|lot|lots|load|loads|packet|packets|box|boxes|bottle|=manynumber|"
        "handful|extra|entire|strip|stash|bunch|double|dozens|bag|hole|once|quantity|"
        "unknown")


@dataclass(frozen=True)
class Phrase:
    """A pattern over the message's likeliest reading, for concepts that word sets can't
    hold apart ("can't go on" is distress; "can't go on the 5th" is a booking)."""

    category: str
    pattern: re.Pattern[str]


def phrase(category: str, pattern: str) -> Phrase:
    return Phrase(category, re.compile(pattern))


@dataclass(frozen=True)
class Rule:
    category: str
    groups: tuple[frozenset[str], ...]
    prefixes: tuple[tuple[str, ...], ...]
    ordered: bool
    reach: int  # gap between slots (ordered) or window size (near)
    # Rules for words that also name clinics and services ("the stroke clinic"): a match
    # followed at once by a service word is not an emergency.
    clinic_sensitive: bool = False


def _group(alternatives: str) -> tuple[frozenset[str], tuple[str, ...]]:
    exact, prefixes = set(), []
    for word in alternatives.split("|"):
        word = word.strip()
        if word.endswith("*"):
            prefixes.append(word[:-1])
        elif word.startswith("="):
            exact.add(word)
        else:
            exact.update({word, stem(word)})
    return frozenset(exact), tuple(prefixes)


def seq(category: str, *slots: str, gap: int = 1, clinic: bool = False) -> Rule:
    if len(slots) == 1:  # one string: its words are the slots ("want to die")
        slots = tuple(slots[0].split())
    groups = [_group(slot) for slot in slots]
    return Rule(category, tuple(g for g, _ in groups), tuple(p for _, p in groups), True, gap,
                clinic)


def near(category: str, *alternatives: str, window: int = 6, clinic: bool = False) -> Rule:
    groups = [_group(slot) for slot in alternatives]
    return Rule(category, tuple(g for g, _ in groups), tuple(p for _, p in groups), False,
                window, clinic)


RULES: tuple[Rule | Phrase, ...] = (
    # -- chest pain / heart attack ----------------------------------------------------------
    near("chest_pain", "chest|chests|breastbone|sternum", PAIN, window=6, clinic=True),
    near("chest_pain", "heart", "attack|attacks", window=2, clinic=True),
    near("chest_pain", "pain|ache|aching|tingling|numb|heavy", "arm|jaw|neck|shoulder",
         "chest|heart|sweaty|sweating|clammy|grey|gray|sick", window=10),
    near("chest_pain", "heart", "racing|pounding|fluttering|skipping|thumping|banging|fast",
         "dizzy|faint|fainting|chest|breath|breathe|collapse|sweaty|pain|clammy", window=10),
    seq("chest_pain", "gtn|angina|spray", gap=4),
    # Pressure described, not named: "like someone sat on it", "an elephant on my chest".
    near("chest_pain", "chest|ribs|me|heart", "sat|sitting|standing|elephant|belt|band|vice|"
         "weight|crushed|squashed|squeezed", "like|feels|feel|someone|something", window=8),
    near("chest_pain", "pain|ache|aching|numb|tingling", "arm|jaw|neck|shoulder", "left|down|"
         "into|going|spreading|travelling|up", window=8),
    near("chest_pain", "same|like", "pain|feeling", "heart", "attack|before", window=10),
    # -- stroke (FAST) ----------------------------------------------------------------------
    near("stroke", "face|mouth|smile|lip|cheek|eyelid",
         "droop|drooping|droopy|drooped|dropped|dropping|fallen|sagging|saggy|slipped|"
         "lopsided|wonky|twisted|crooked|numb|uneven|slanted|slack", window=5),
    near("stroke", "arm|arms|leg|legs|hand|side|body|foot",
         "weak|weakness|numb|numbness|dead|floppy|heavy|lift|move|raise|useless|limp|dragging|"
         "feeling|paralysed|paralyzed|tingling|flop",
         "one|left|right|sudden|suddenly|cant|wont|half|whole|cannot|gone|went", window=7),
    near("stroke", "speech|speaking|speak|talking|talk|words|word|sentences|voice",
         "slurred|slurring|slur|garbled|muddled|jumbled|mumbled|mumbling|nonsense|gibberish|"
         "drunk|cant|cannot|confused|sense|=funny|=weird|=strange", window=5),
    seq("stroke", "stroke|strokes", gap=0, clinic=True),
    near("stroke", "words|word|speech|talking|talk|sentences", "nonsense|wrong|rong|jumbled|"
         "muddled|gibberish|garbled|out|coming|comin|sense", "coming|comin|out|just|all|"
         "making|wrong|rong", window=5),
    near("stroke", "face|smile|mouth|side|half", "one|half|only|gone|dropped|moves|move|"
         "wrong|dribbling|drooling", "side|half|moves|move|gone|face", window=6),
    near("stroke", "suddenly|sudden|all", "forgotten|confused|wobbly|wobbling|dribbling|"
         "drooling|cant|unsteady|fell", "side|face|arm|leg|who|sudden|speak|talk|walk", window=8),
    seq("stroke", "mini|tia", gap=0, clinic=True),
    near("stroke", "sudden|suddenly",
         "understand|understanding|confused|muddled|sense|recognise|recognize|dragging",
         "cant|cannot|not|isnt|wont|doesnt|nt|leg|arm|foot", window=8),
    near("stroke", "sudden|suddenly",
         "blind|vision|sight|see|confused|confusion|dizzy|balance", "lost|cant|gone|went|"
         "double|blurred|blurry|no|cannot", window=6),
    # -- can't breathe ----------------------------------------------------------------------
    near("breathing", "cant|cannot|struggling|struggle|difficult|difficulty|hard|unable|"
         "trouble|fighting|gasping|hardly|barely|labouring|laboured|problem|problems|=stop|"
         "harder|heavy|heavier|fast|quick|rapid|shallow|noisy|rattly|rattling|"
         "stopped|not|short|shortness|catch|get|getting|breathless|nt",
         "breath|breathe|breathing|breaths|breathin", window=4),
    near("breathing", "breathless|breathlessness|wheezing|wheezy|wheeze|panting|gasping|"
         "puffed|winded", "rest|resting|sitting|sat|lying|bed|talking|talk|speak|worse|cant|"
         "really|very|so|severe|bad|badly|struggling|sudden|suddenly|night|blue|lips|scared|"
         "frightened|help|nothing|everything|minutes|hours|cannot|wont|getting", window=6),
    seq("breathing", "gasping|gasp|gasped"),
    near("breathing", "lips|lip|face|fingers|skin|mouth",
         "blue|bluish|grey|gray|purple|dusky", window=4),
    seq("breathing", "choking|choke|choked"),
    near("breathing", "inhaler|inhalers|nebuliser|puffer|ventolin|salbutamol",
         "not|isnt|wont|doesnt|nothing|no|useless|nt|didnt|hasnt", "help|helping|helped|"
         "working|work|worked|touching|difference|doing|use|effect", window=5),
    near("breathing", "air|oxygen", "cant|not|enough|no|get|gasping|hungry", window=4),
    near("breathing", "breath|breathing|breathe|breaths|ribs|chest|throat", "straw|whistling|"
         "wheezing|sucking|sucked|rattling|noise|noisy|grunting|stridor|croup|barking|fast|"
         "racing|funny|weird", "like|making|in|getting|worse|every|horrible|through|baby|"
         "toddler|he|she|pale|blue", window=8),
    near("breathing", "asthma|asthmatic|copd", "attack|severe|worst|struggling|cant|cannot|"
         "ambulance|blue|scared", window=5),
    phrase("breathing", r"\b(asthma|chest|breathing|copd)( is| has been| s)? (very|really|so|"
           r"proper|extremely) bad\b"),
    near("breathing", "drowning|suffocating|smothering|suffocate|drown", "feel|feels|feeling|"
         "like|cant|lie|lying|night|chest|breath", window=4),
    near("breathing", "words|sentences|sentence|word", "few|only|cant|barely|hardly|couple|"
         "finish|between|one|two", "breath|breathe|breathing|breaths|time|say|talk|speak",
         window=6),
    # -- severe bleeding ----------------------------------------------------------------------
    near("bleeding", "coughing|cough|coughed|vomiting|vomit|vomited|sick|throwing|threw|spitting|"
         "spit|spat|bringing|puke|puking|poo|poos|stool|stools|wee|urine|sicking",
         "blood|bloody|bleeding|red|clots|clot", window=5),
    near("bleeding", "=blood|bleeding|bleed|bled|=bleeds|nosebleed|nosebleeds",
         "everywhere|=stop|pouring|gushing|lots|loads|soaked|soaking|clots|clot|pool|"
         "heavy|heavily|lot|much|badly|spurting|through|towel|towels|pads|pad|bucket|"
         "severe|loads|massive|wont|cant|flooding|streaming|dripping|keeps|fast|hour|hours|"
         "floor|ages", window=6,
         clinic=True),
    seq("bleeding", "haemorrhag*|hemorrhag*|haemorrag*"),
    near("bleeding", "vomit|vomited|vomiting|sick|throwing|threw|puke", "coffee", "grounds",
         window=8),
    near("bleeding", "toilet|loo|poo|poos|stool|stools|bowels|wee|urine|pee|bottom|bum",
         "=blood|bloody", "all|lots|full|pure|just|fresh|pouring|dark|clots|bowl|pan|loads|"
         "everywhere|filled|only", window=8),
    near("bleeding", "pregnant|pregnancy|=weeks|miscarriage|miscarrying|miscarry|baby",
         "bleeding|bleed|=blood|bled|cramps|clots", window=8),
    near("bleeding", "black|tarry|tar", "poo|poos|stool|stools|sick|vomit", window=4),
    near("bleeding", "vomited|vomiting|vomit|sick|sicked|threw", "full|all|loads|lots|"
         "blood|bloody", "=blood|bloody|red", window=8),
    near("bleeding", "nose|nosebleed|cut|wound", "pouring|streaming|gushing|still|=going|wont|"
         "hour|hours|kitchen|roll|towels|through", "hour|hours|=going|stop|paper|roll|towel|"
         "=blood|bleeding|thinners|warfarin|still", window=10),
    near("bleeding", "poo|poos|stool|stools|bowel", "dark|black|tarry|maroon",
         "lightheaded|dizzy|faint|fainting|weak|collapsed|pale|woozy", window=12),
    near("bleeding", "oozing|dripping|pouring|leaking|seeping|gushing", "floor|everywhere|"
         "through|soaked|soaking|bandage|dressing|towel|carpet|bed", window=8),
    near("bleeding", "scratches|scratch|cut|cuts|wound|gash|graze|plaster|dressing|bandage|"
         "stitches", "wont|cant|doesnt|not|"
         "nt", "close|stop|heal|closing|stopping", window=12),
    # -- anaphylaxis --------------------------------------------------------------------------
    seq("anaphylaxis", "anaphyla*|anaflax*|anafylax*|anaphalax*"),
    near("anaphylaxis", "throat|lips|lip|tongue|face|mouth", "smaller|closing|bigger|swelling|"
         "tighter|tight|huge", "minute|getting|every|by|hard|swallow|breathe", window=8),
    near("anaphylaxis", "stung|sting|wasp|bee|nuts|nut|peanut|sesame|prawns|shellfish|"
         "penicillin|reaction", "blotchy|hives|rash|swelling|swollen|breathing|breathe|"
         "wheezy|wheezing|throat|lips|tongue|faint|floppy", window=10),
    near("anaphylaxis", "epipen|epipens|epi|adrenaline|jext|autoinjector", "used|use|"
         "using|gave|given|give|injected|jabbed|twice|second|another|had|stabbed|jab",
         window=4),
    near("anaphylaxis", "lip|lips|tongue|throat|face|facial|mouth|eyes|eye|airway",
         "swell|swelling|swollen|swelled|puffy|puffing|puffed|closing|close|blowing|tight|"
         "huge|balloon|ballooned|itchy|tingling|thick|doubled|massive|tightening|closing|big",
         window=5),
    near("anaphylaxis", "allergic|allergy|reaction|hives|urticaria|rash|nut|nuts|peanut|"
         "sting|stung|penicillin|antibiotic|antibiotics",
         "breathe|breath|breathing|swallow|swallowing|throat|swelling|swollen|tongue|lips|"
         "wheezy|faint|collapse|bad|severe", window=8),
    # -- collapse / unconscious / fitting -----------------------------------------------------
    seq("collapse_fitting", "collapse|collapsed|collapsing|unconscious|unresponsive|"
        "unrousable|seizure|seizures|seizing|convulsing|convulsion|convulsions|"
        "fainted|fainting|faint|keeled|blackout|blackouts", clinic=True),
    seq("collapse_fitting", "is|was|been|keeps|keep|started|start|still|having|are|were",
        "=fitting|=fittin", gap=0),
    seq("collapse_fitting", "=fitting|=fittin", "again|for|minutes|mins|wont|non|now|and",
        gap=0),
    near("collapse_fitting", "in|going|drifting", "out", "consciousness|conscious|of|it",
         window=4),
    near("collapse_fitting", "floor|ground|collapsed|slumped", "not|isnt|wont|nt|cant",
         "answering|responding|moving|talking|waking|breathing|speaking", window=8),
    near("collapse_fitting", "ragdoll|limp|lifeless|floppy|unresponsive|grey|blue",
         "baby|he|she|toddler|child|son|daughter|like", window=6),
    near("collapse_fitting", "=fit|seizure|fitting|convulsion|convulsing", "gone|going|lasted|"
         "still|minutes|mins|over|longer|stopped|wont", "minutes|mins|5|6|7|10|long|on|stop",
         window=8),
    seq("collapse_fitting", "passed|passing|pass|blacked|blacking|black|knocked|went|go",
        "out", gap=0),
    near("collapse_fitting", "wake|waking|wakey|rouse|rousing|respond|responding|responsive|"
         "conscious|consciousness",
         "cant|wont|not|isnt|wasnt|no|cannot|nt|hasnt|unable|lost|losing|lose|keeps",
         window=4),
    near("collapse_fitting", "=fit|=fits", "having|had|has|into|in|another|keeps|minutes|mins|"
         "small|little|longer|morning|today|tonight|again|usual|first|"
         "shaking|jerking|stopped|big|bad|massive", window=4),
    near("collapse_fitting", "shaking|jerking|twitching|stiff|convulsing|thrashing",
         "floor|eyes|rolled|rolling|respond|responding|wont|minutes|mins|uncontrollably|"
         "frothing|foaming|over|body|everywhere|arms|legs|stop|cant|ground", window=6),
    near("collapse_fitting", "floppy|=limp|lifeless|grey|blue", CHILD, window=5),
    near("collapse_fitting", "floor|ground|found", "wont|cant|not|unconscious|fell|fallen",
         "wake|get|respond|move|moving|up|breathing", window=6),
    # -- overdose / poisoning -----------------------------------------------------------------
    seq("overdose_poisoning", "overdose|overdosed|overdosing|poison|poisoned|poisoning|"
        "poisonous|toxic"),
    near("overdose_poisoning", "bleach|chemicals|cleaner|detergent|liquitab|powder|pills|"
         "tablets|bottle|packets|pill", "mouth|lips|open|empty|round|around|next|found",
         "his|her|their|toddler|child|son|daughter|baby|him|he|she|them", window=8),
    near("overdose_poisoning", "took|taken|had|swallowed|given", "something|stuff|drugs|pills|"
         "ecstasy|ket|spice|mdma", "party|club|festival|vomiting|making|sense|weird|collapsed|"
         "fitting|drowsy|wont", window=10),
    near("overdose_poisoning", "too|extra|double", "many|much|doses|dose", "thinners|blood|"
         "warfarin|insulin|tablets|pills|meds|medication|paracetamol", window=6),
    near("overdose_poisoning", INGEST, LOTS, MEDICINE, window=8),
    near("overdose_poisoning", "swallowed|swallow|swallowing|ate|eaten|eat|drank|drunk|drink|"
         "drinking|chewed|chewing|sucked|licked",
         "bleach|battery|batteries|liquitab|liquitabs|capsule|detergent|antifreeze|weedkiller|"
         "chemicals|cleaner|tablets|pills|medicine|calpol|paracetamol|meds|medication|"
         "washing|dishwasher|fairy|methadone|vape|coin|coins|magnet|magnets|button|"
         "screw|pin", window=6),
    near("overdose_poisoning", MEDICINE, "doubled|mistake|accidentally|accidental|twice|"
         "extra|wrong", "took|taken|had|up|given|gave|dose|doses|double|mixed", window=6),
    near("overdose_poisoning", "tablets|pills|paracetamol|meds|medication|sleeping|"
         "antidepressants",
         "vodka|alcohol|wine|drink|drinking|booze|beer|whisky|gin|cider|spirits", window=8),
    # -- suicidal thoughts (direct and indirect) ----------------------------------------------
    seq("suicidal", "suicid*|suicidle|sucidal|suicdal|suicial"),
    phrase("suicidal", r"\b(giving|given|gave|give|giving away) (away )?(all )?(his|her|my|"
           r"their|me (his|her)) (stuff|things|belongings|possessions|bank cards|cards|dog|cat|"
           r"savings|jewellery)\b|\bsorted (out )?my will\b"),
    near("suicidal", "tablets|pills|meds|rope|knife|blade", "lined|ready|saving|saved|"
         "counted|stockpiled|front|out", "up|front|me|ready|tonight", window=6),
    near("suicidal", "joining|join", "dad|mum|husband|wife|son|daughter|them|him|her",
         "passed|died|gone|heaven|again|soon", window=8),
    near("suicidal", "stop|stopping|give|giving", "fighting|trying|up", "night|tonight|life|"
         "living|everything|anymore", window=5),
    near("suicidal", "driving|drive|crash|crashing|walk|walking|jump|jumping", "into|off|"
         "under|in", "wall|bridge|tree|lorry|train|sea|river|motorway|cliff", window=6),
    near("suicidal", "everyone|everybody|family|kids|they|people", "manage|cope|fine|"
         "better|happier|easier", "without|if|wasnt|wasn|gone", window=8),
    near("suicidal", "note|letters|letter|goodbye|message", "saying|said|sorry|written|wrote|"
         "left|loves|love", "sorry|everything|goodbye|kids|us|off|phone|answering", window=10),
    near("suicidal", "done", "with", "all|everything|life|it", window=4),
    phrase("suicidal", r"\b(dont|do not) think (i|ill|i will) (be|still be) (around|here|"
           r"alive)\b|\b(end|ending) it\b|\bfeels like the (right )?(time|night)\b"),
    seq("suicidal", "kill|killing|end|ending|take|taking|top|topping|off|do|doing",
        "myself|meself|own|life|self|lives", gap=2),
    seq("suicidal", "kill|killed", "myself|meself|herself|himself|themselves", gap=1),
    seq("suicidal", "end|ending|ended|finish|finishing", "it|things|everything|all|life|"
        "this|myself", gap=1),
    seq("suicidal", "want|wanna|wanting|wish|wishing|ready|prefer|rather|hope|hoping",
        "die|dying|dead|gone|disappear|disappeared", gap=3),
    near("suicidal", "not|dont|no|never|nt|didnt", "want|wanting|wish|bother|like",
         "here|alive|exist|existing|live|living|around|wake|waking|anymore|tomorrow",
         window=5),
    near("suicidal", "cant|cannot|unable|wont|dont|nt", "cope|take|face|continue|handle|"
         "manage|bear|stand", "anymore|longer|more|life|everything|living", window=5),
    phrase("suicidal", r"\bcant do (this|it|life) any ?more\b"),
    phrase("suicidal", r"\b(wont|will not|shant|shall not) (need|be needing) (it|them|this|"
           r"that|any|the \w+)( \w+)? (after|beyond|past) (tonight|today|tomorrow|this)\b"),
    phrase("suicidal", r"\b(step|stepping|stepped|jump|jumping|walk|walking|throw|throwing)"
           r"( myself)? (in front of|under) (a|the) (train|bus|lorry|car|truck|tube)\b"),
    near("suicidal", "grave|coffin|graveyard|cemetery", "heading|going|where|end|ready|want|"
         "belong", window=5),
    near("suicidal", "pills|tablets|meds|medication|paracetamol|painkillers",
         "saved|saving|stockpiled|stockpiling|hoarded|hoarding|stashed|collecting|collected",
         window=5),
    phrase("suicidal", r"\b(cant|cannot|can not|not|unable to|wont|no longer|dont think i can)"
           r" (go|carry|keep|going|carrying|keeping) on\b(?! (the|a|an|\w+day|\d+\w*|holiday|"
           r"that|this|at|in|with|to|tues|weds|thurs|mon|fri|sat|sun|my|our|his|her|\w+s)\b)"),
    phrase("suicidal", r"\b(wont|not|no longer|never) be (anyones?|anybodys?|a|your|their|"
           r"everyones|any) (problem|burden|worry|trouble|bother)\b"),
    phrase("suicidal", r"\b(wont|will not|not|no) be (around|here|alive) (much|for|any) "
           r"(longer|long|more)\b|\b(wont|will not) be (around|here|alive) (anymore|for "
           r"you|to see)\b"),
    phrase("suicidal", r"\b(put|putting|sorted|sorting|getting|got) (my|all my) (affairs|"
           r"things|stuff|life) in order\b"),
    seq("suicidal", "want|wish|need|wanting", "it|everything|all|things|life|this",
        "stop|end|over|ended|stopped", gap=2),
    near("suicidal", "bridge|cliff|ledge|railway|tracks|motorway|roof|edge|storey|storeys",
         "standing|stood|stand|jump|jumping|thinking|edge|over|off", window=5),
    near("suicidal", "no|nothing|nt|lost|not", "point|reason|future|hope|worth|purpose|left",
         "living|live|life|anymore|going|on|carrying|being|any|more|trying", window=5),
    near("suicidal", "better|easier|happier|free", "without|off|gone|dead", "me|i|myself|"
         "everyone|all|them|family|kids", window=5),
    near("suicidal", "burden|worthless|hopeless|pointless", "everyone|anyone|family|life|"
         "living|am|feel|feeling|me|myself|i|being", window=4),
    near("suicidal", "goodbye|goodbyes|farewell|rope|hang|hanging|noose",
         "forever|everyone|last|myself|life|end|final|kill|off|note|die|world|all|my|today|"
         "tonight|family|kids", "saying|say|said|"
         "wrote|written|writing|made|ready|going|decided|want|thinking|thought|done", window=7),
    near("suicidal", "tired|sick|done|finished", "life|living|alive|existing|exist",
         window=4),
    near("suicidal", "thoughts|thinking|thought|feel|feeling|feelings|urges", "dark|"
         "ending|end|dying|death|suicidal|killing|disappearing", window=4),
    near("suicidal", "way|ways", "out|end", "no|only|see|find|looking", window=4),
    near("suicidal", "sleep", "never|not|forever", "wake|waking|up", window=5),
    # -- self-harm ----------------------------------------------------------------------------
    seq("self_harm", "self|selfharm|selfharming", "harm|harming|harmed|injury|injure|"
        "injuring|hurt|hurting", gap=1),
    near("self_harm", "cut|cutting|cuts|burn|burning|burned|burnt|hurt|hurting|harm|harming|"
         "injured|injure|injuring|injuries|damage|damaging|=striking|hitting|"
         "scratch|scratching|punch|punching|hit|hitting|bang|banging|stab|slash|slashing|"
         "slit|bite|biting|pull|pulling|carve|carving|starve|starving",
         "myself|meself|herself|himself|themselves|themself|self|wrists|wrist|arms|thighs|"
         "legs|skin", window=4),
    near("self_harm", "urge|urges|relapse|relapsed|blade|razor|knife|blades|scissors",
         "cut|cutting|harm|hurt|myself|arms|wrist|skin|self|again", window=6),
    near("self_harm", "cut|cutting|cuts|burn|burning|burned|burns|hurt|injured|injure|harm|"
         "hit|hitting|striking|bang|banging|scratching|scratched", "purpose|deliberately|"
         "deliberate|intentionally|intentional", window=6),
    seq("self_harm", "cutting|harming|burning|scratching", "again|tonight|more", gap=1),
    near("self_harm", "=did|=done", "something|more", "arm|arms|wrist|wrists|legs|thighs|skin|"
         "stomach", window=6),
    near("self_harm", "want|wanna|need|urge", "cut|burn|hurt|harm", "bad|so|now|right|rite|"
         "myself|tonight|again", window=5),
    near("self_harm", "lighter|cigarette|cigarettes|blade|razor|compass|glass", "skin|arm|"
         "arms|legs|thighs|wrist|myself|again|on|burns|burn", window=6),
    near("self_harm", "marks|cuts|burns|scars", "thighs|arms|stomach|wrists|legs|himself|"
         "herself|myself|worse|more|infected|deep", "did|done|more|worse|tonight|showed|"
         "found|infected|deep", window=8),
    near("self_harm", "cut|cuts|cutting", "deep|deeper|too|fat|bone|gaping|gash", window=4),
    phrase("self_harm", r"\b(did|done|doing|do|urge to|want to|relapsed|been|after|stop) "
           r"(sh|s h)\b|\bsh (again|tonight|urges|relapse)\b"),
    near("self_harm", "urge|urges", "strong|so|bad|tonight|resist|resisting|fighting|again|"
         "knife|blade|cut|hurt", window=4),
    phrase("self_harm", r"\b(cuts|burns|marks|scars|wounds) (i|ive|i have|i had) (did|done|"
           r"made|gave)\b|\bdid (a bit of|some) (cutting|harming|burning)\b"),
    # -- sepsis ------------------------------------------------------------------------------
    seq("sepsis", "sepsis|septic|septicaemia|septicemia|mottled|mottling|blotchy"),
    near("sepsis", "chemo|chemotherapy|neutropenic|neutropaenic|cancer|leukaemia|oncology",
         "temp|temperature|fever|shivers|shivering|rigors|38|39|40|hot|unwell", window=12),
    near("sepsis", "cold|clammy|ice|freezing|purple|blue|mottled", "hot|burning|clammy|"
         "barely|responding|vomiting|hands|feet|knees|drowsy|confused", "responding|"
         "vomiting|knees|feet|hands|hot|burning|drowsy|confused|days", window=10),
    near("sepsis", "temperature|temp|fever|feverish|burning|boiling|roasting|hot|shivering|"
         "shaking|shivers|rigors|chills",
         "confused|confusion|drowsy|delirious|shivering|shaking|rigors|clammy|cold|rash|"
         "blotchy|mottled|wound|infection|infected|fast|racing|breath|faint|dizzy|wee|"
         "pale|floppy|lethargic|sleepy|sick|wont|high|40|39|41|really", window=8),
    seq("sepsis", "not|no|hasnt|havent|nt|hardly|barely|wasnt", "wee|weed|weeing|urine|pee|"
        "peed|peeing|nappy|nappies|wet|passed", gap=2),
    near("sepsis", "rash|spots|blotches|marks|dots", "glass|fade|fading|blanch|blanching|"
         "press|pressed|purple|spreading", window=8),
    near("sepsis", "wound|scar|cut|incision|stitches|site|leg|arm|op|operation|infection|"
         "surgery|drain|line|cannula|catheter",
         "hot|red|redness|spreading|pus|oozing|smelly|smells|black|swollen|streaks|angry",
         "unwell|temperature|fever|shivering|shivery|shivers|shaking|confused|faint|dizzy|"
         "sick|poorly|drowsy|clammy|cold|worse|spreading|fast|awful|terrible|rough|dreadful|"
         "horrendous", window=10),
    near("sepsis", "very|really|extremely|so|seriously|dreadfully", "=unwell|=poorly|=ill",
         "never|ever|something|wrong|confused|drowsy|sleepy|fast|quickly|dying|scared|worse|"
         "suddenly", window=6),
    near("sepsis", "lethargic|drowsy|sleepy|listless|unusually|floppy", CHILD + "|really|"
         "very|so|cant|wont|keep|hard|unusually", window=6),
    # -- sudden severe headache or abdominal pain ---------------------------------------------
    near("sudden_severe_pain", "headache|head|migraine|skull",
         "worst|sudden|suddenly|thunderclap|exploding|exploded|exploding|blinding|splitting|"
         "excruciating|unbearable|severe|agony|never|hit|bang|banging|pounding|stiff|"
         "vomiting|sick|light|cant|horrendous|screaming|crazy|terrible|awful|out", window=8),
    near("sudden_severe_pain", "stomach|tummy|abdomen|abdominal|belly|side|pelvis|pelvic|gut|"
         "groin|testicle|testicles|back|bowel|appendix|kidney|ribs",
         "pain|ache|agony|hurt|hurting|cramp|cramps|cramping|sore",
         SEVERE + "|doubled|double|move|stand|walk|rolling|crying|curled|sweating|sick|"
         "straighten|straight|upright|once|roof|comfortable", window=10),
    near("sudden_severe_pain", "pain|agony|hurt|hurting|hurts", "unbearable|excruciating|"
         "worst|screaming|doubled|cant|crying|10|ten|writhing|rolling|unreal|horrendous|"
         "intolerable|terrible|severe", "move|stand|walk|ever|out|over|bear|breathe|sleep|"
         "ten|10|life|cope|sit", window=6),
    near("sudden_severe_pain", "pain|belly|tummy|stomach|head|headache", "unreal|knife|"
         "twisting|stabbing|nowhere|second|instant|instantly|worst|ever|so|much",
         "unreal|nowhere|second|ever|move|help|twisting|had|cant", window=8),
    near("sudden_severe_pain", "hernia|lump|bulge", "hard|painful|pain|tender|agony",
         "sick|vomiting|cant|back|in", window=8),
    near("sudden_severe_pain", "calf|leg|op|site|wound|knee", "swollen|swelling|bigger|red|"
         "hot", "agony|pain|sore|painful|bigger|comfortable|getting", window=10),
    near("sudden_severe_pain", "swelling|swollen|swelled", "severe|pain|agony|huge|massive",
         "op|operation|surgery|wound|calf|leg|scar|stitches", window=8),
    # -- safeguarding -------------------------------------------------------------------------
    seq("safeguarding", "scared|afraid|frightened|terrified|fear|petrified|scare|scares|"
        "frightens|feared|fearing|fearful", "of|for|about|that|when|what|if",
        ABUSER + "|going|home|my|life|safety|will|might", gap=1),
    near("safeguarding", ABUSER, "=scares|=frightens|=terrifies|threatens|threatened|threatening|"
         "hits|hit|hitting|beats|beat|beaten|punches|punched|kicks|kicked|slaps|slapped|"
         "pushes|pushed|shoves|strangled|strangles|chokes|choked|grabbed|hurts|hurt|hurting|"
         "abuses|abused|abusing|controls|controlling|locks|locked|bruises|bruised|attacks|"
         "attacked|raped|rape|touches|touched|shouts|screams|smashed|forced|forces|kill|"
         "kills", "me|kids|children|child|baby|us|her|him|son|daughter|them|mum|dad|nan",
         window=7),
    near("safeguarding", ABUSER, "=rough|violent|aggressive|handy|vicious|temper",
         "bruises|bruise|bruised|hurt|hit|drink|drunk|drinking|scared|frightened|afraid",
         window=8),
    near("safeguarding", "kids|children|child|baby|little|toddler|girl|boy|son|daughter",
         "being|getting|gets|get", "hurt|hit|beaten|abused|neglected|smacked|starved|"
         "locked|touched|harmed", window=5),
    near("safeguarding", "without|secretly|privately|discreetly|hidden|hiding", "showing|"
         "see|seeing|knowing|know|finding|noticing|phone", "home|him|her|partner|husband|he|"
         "she|house|family", window=10),
    phrase("safeguarding", r"\b(not|never|no longer) (allowed|permitted) to (use|have|go|leave|"
           r"see|talk|speak|call|phone|text|reply|answer|keep)\b"),
    phrase("safeguarding", r"\b(he|she|they|him|her) (cant|mustnt|must not|shouldnt|cannot|"
           r"can not|musnt) (know|(see|find out about|read|hear) (this|these|it|that|them|my "
           r"(texts|messages|phone)))\b"),
    phrase("safeguarding", r"(^|, )(i am |im |i feel |feel |its |it is )?(not|un) ?safe\b|"
           r"\bnot safe (at|in) (hom|home|house)"),
    near("safeguarding", "scared|afraid|frightened|cant|can't|help|somewhere", "go|going|"
         "back|home|house", "home|house|tonight|back|after|safe", window=6),
    near("safeguarding", "he|she|partner|husband|boyfriend|stepdad|dad|carer|they",
         "threw|thrown|pushed|kicked|punched|strangled|choked|burns|burned|burnt|locks|locked",
         "me|him|her|wall|floor|cigarettes|stairs|kids|in", window=6),
    phrase("safeguarding", r"\b(takes?|took|taking|keeps?|kept) (all )?(my|her|his) (money|"
           r"pension|benefits|bank ?cards?|cards?|phone|passport)\b"),
    near("safeguarding", "kids|children|child|baby|toddler", "left|alone|screaming|"
         "neglected|hungry|dirty", "alone|days|nights|screaming|banging|hours|themselves",
         window=8),
    near("safeguarding", "older|old|men|man|adults", "alcohol|drink|presents|gifts|money|"
         "drugs|lifts", "her|him|girl|boy|granddaughter|grandson|daughter|son|14|13|15|12",
         window=10),
    phrase("safeguarding", r"\b(he|she|they) (wont|will not|doesnt|must not|mustnt|cant|"
           r"shouldnt|never) (find out|know about|see this|see these|see it)\b"),
    near("safeguarding", "help", "me", "he|hes|she|shes|they|theyre", "here|home|back|"
         "coming", window=6),
    near("safeguarding", "chcks|checks|check|reads|opens|goes", "fone|phone|post|letters|"
         "mail|messages|texts", "he|she|hes|shes", window=6),
    near("safeguarding", "not|dont|never", "with|mention|send|tell", "he|him|she|her|"
         "bruises|marks|letter|post", "me|bruises|letter|post|opens|reads|there", window=8),
    near("safeguarding", "not|dont|feel|isnt|never|unsafe|nt", "safe|unsafe", "evening|"
         "evenings|night|nights|weekend|weekends|when|after|home|house|"
         "here|him|her|them|there|with|partner|husband|boyfriend|family|kids|children|back",
         window=6),
    seq("safeguarding", "domestic|abuse|abused|abusive|abuser|coercive|coercion|groomed|"
        "grooming|neglect|neglected|neglecting|trafficked|exploited|exploitation"),
    near("safeguarding", "checks|checking|reads|reading|monitors|tracks|tracking|watches|"
         "goes|takes|took|smashed|listens", "phone|messages|texts|mobile|calls|emails|post|"
         "letters", "he|she|partner|husband|boyfriend|wife|girlfriend|dad|ex|son", window=5),
    near("safeguarding", "wont|doesnt|never|not|nt|wouldnt|didnt", "let|allow|allowed|lets",
         "me|her|us|him", "out|leave|go|see|have|talk|speak|money|phone|eat|doctor|in|"
         "appointment|hospital|anyone|friends|family|house|alone", window=6),
    near("safeguarding", "delete|deleted|secret|hide|hiding|quietly|quiet", "he|she|him|"
         "partner|husband|boyfriend|messages|this|text|texts", "see|finds|find|sees|reads|"
         "read|angry|kill|hurt|knows|know|phone|around|here|home", window=8),
    near("safeguarding", "bruises|bruise|bruising|marks|burns|injuries|scared|frightened",
         "kid|kids|child|children|son|daughter|baby|toddler|grandchild|nan|dad|mum|"
         "grandson|granddaughter|little", "again|unexplained|explain|hurt|hits|hit|doesnt|"
         "cant|says|won|scared|home|shouldnt|why|from|new|more", window=8),
    # -- the patient says it is an emergency --------------------------------------------------
    near("emergency", "call|called|calling|ring|rang|ringing|phone|phoned|get|need|needs|"
         "send|sent|waiting|wait|coming|should|dial|dialled|dialed|on",
         "ambulance|ambulances|paramedic|paramedics|999", window=4),
    near("emergency", "ae|casualty|emergency|resus|resuscitation",
         "now|rushed|rush|taken|taking|go|going|need|should|blue|lighted", window=5),
)
