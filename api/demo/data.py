"""Static reference data for the synthetic demo trust: sites, specialties, names, languages.

Everything here is invented. The trust, its hospitals and its clinicians do not exist;
postcodes use the "NX" area, which the Royal Mail does not issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.patients.models import CommunicationNeed

TRUST_NAME = "Northshire Hospitals NHS Foundation Trust (synthetic demo)"

# The fake postcode area: real postcode shape ("NX12 3AB"), no real address behind it.
POSTCODE_AREA = "NX"
POSTCODE_DISTRICTS = 19
# Inward-code letters as Royal Mail uses them (C, I, K, M, O and V never appear).
POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Ofcom reserves 07700 900000-900999 for drama: these numbers can never reach a real person.
DRAMA_MOBILE_PREFIX = "+447700900"
DRAMA_MOBILE_COUNT = 1000

EMAIL_DOMAINS = ("example.com", "example.org")


@dataclass(frozen=True)
class SiteInfo:
    code: str
    name: str
    address: str
    postcode: str
    parking: str
    transport: str
    step_free_access: bool


SITES: tuple[SiteInfo, ...] = (
    SiteInfo(
        code="NTH-RNI",
        name="Royal Northshire Infirmary",
        address="Infirmary Road, Northshire",
        postcode="NX1 4RN",
        parking="Multi-storey car park on Infirmary Road, pay on exit; Blue Badge bays beside the "
                "main entrance.",
        transport="Buses 12 and 27 stop at the main entrance; Northshire Central station is a "
                  "10-minute walk.",
        step_free_access=True,
    ),
    SiteInfo(
        code="NTH-NGH",
        name="Northshire General Hospital",
        address="Moor Lane, Northshire",
        postcode="NX7 2GH",
        parking="Surface car parks A and B, pay at the machines; free for Blue Badge holders.",
        transport="Bus 40 from Northshire Central every 15 minutes; hospital shuttle from the "
                  "Royal Northshire Infirmary on weekdays.",
        step_free_access=True,
    ),
    SiteInfo(
        code="NTH-MCH",
        name="Millbrook Community Hospital",
        address="Mill Street, Millbrook",
        postcode="NX14 6LB",
        parking="Small free car park; it is often full before 10am, so allow extra time.",
        transport="Bus 8 stops on Mill Street; Millbrook station is a 5-minute walk.",
        step_free_access=False,  # Victorian building: steps at the front, ramp at the side door
    ),
    SiteInfo(
        code="NTH-ETC",
        name="Eastgate Treatment Centre",
        address="Eastgate Business Park, Northshire",
        postcode="NX9 3ET",
        parking="Free car park next to the building, with Blue Badge bays by the entrance.",
        transport="Park and ride (Eastgate stop) every 10 minutes; bus 27 stops outside.",
        step_free_access=True,
    ),
)
DEMO_SITE_CODES = tuple(site.code for site in SITES)


@dataclass(frozen=True)
class ProcedureInfo:
    name: str
    location: str
    minutes: int  # one slot


@dataclass(frozen=True)
class SpecialtyInfo:
    code: str
    name: str
    surgical: bool
    clinicians: tuple[str, ...]
    sites: tuple[str, ...]  # site codes its clinics rotate through
    cancer: bool  # takes suspected-cancer (two-week wait) referrals
    affected: bool  # its resident doctors are on strike in the demo disruption
    procedure: ProcedureInfo | None = None
    theatre_sites: tuple[str, ...] = ()
    case_minutes: tuple[int, ...] = ()  # theatre case lengths to draw from (60-120)


SPECIALTIES: tuple[SpecialtyInfo, ...] = (
    SpecialtyInfo(
        code="GSUR", name="General surgery", surgical=True, cancer=True, affected=True,
        clinicians=("Ms Helen Achterberg", "Mr Tomasz Wilk", "Mr Kwame Boateng"),
        sites=("NTH-RNI", "NTH-NGH"),
        theatre_sites=("NTH-RNI", "NTH-ETC"), case_minutes=(60, 90, 120),
    ),
    SpecialtyInfo(
        code="ORTH", name="Trauma and orthopaedics", surgical=True, cancer=False, affected=True,
        clinicians=("Mr David Ferreira", "Ms Sarah Lindqvist", "Mr Imran Qureshi"),
        sites=("NTH-NGH", "NTH-ETC", "NTH-MCH"),
        procedure=ProcedureInfo("Joint injection", "Day Procedures Unit", 30),
        theatre_sites=("NTH-ETC",), case_minutes=(90, 120),
    ),
    SpecialtyInfo(
        code="URO", name="Urology", surgical=True, cancer=True, affected=True,
        clinicians=("Mr Rajesh Menon", "Ms Claire Dunmore", "Mr Olusegun Ade"),
        sites=("NTH-RNI", "NTH-MCH"),
        procedure=ProcedureInfo("Flexible cystoscopy", "Urology Investigations Unit", 30),
        theatre_sites=("NTH-RNI",), case_minutes=(60, 90),
    ),
    SpecialtyInfo(
        code="ENT", name="Ear, nose and throat (ENT)", surgical=True, cancer=True, affected=True,
        clinicians=("Mr Gareth Pryce", "Ms Aisha Rahman", "Mr Lukas Novak"),
        sites=("NTH-NGH", "NTH-RNI"),
        theatre_sites=("NTH-ETC",), case_minutes=(60, 90),
    ),
    SpecialtyInfo(
        code="OPHT", name="Ophthalmology", surgical=True, cancer=False, affected=False,
        clinicians=("Ms Mei Lin Tan", "Mr Andrew Holloway", "Ms Fatima Idris"),
        sites=("NTH-ETC", "NTH-MCH"),
        procedure=ProcedureInfo("Eye injection", "Eye Treatment Room", 30),
        theatre_sites=("NTH-ETC",), case_minutes=(60,),
    ),
    SpecialtyInfo(
        code="CARD", name="Cardiology", surgical=False, cancer=False, affected=True,
        clinicians=("Dr Niamh Gallagher", "Dr Sanjay Patel", "Dr Oliver Brandt"),
        sites=("NTH-RNI", "NTH-NGH"),
        procedure=ProcedureInfo("Cardiac catheter", "Cardiac Catheter Lab", 45),
    ),
    SpecialtyInfo(
        code="DERM", name="Dermatology", surgical=False, cancer=True, affected=True,
        clinicians=("Dr Chloe Whitfield", "Dr Yusuf Karim", "Dr Hannah Moss"),
        sites=("NTH-MCH", "NTH-NGH"),
        procedure=ProcedureInfo("Minor skin surgery", "Minor Operations Room", 45),
    ),
    SpecialtyInfo(
        code="GAST", name="Gastroenterology", surgical=False, cancer=True, affected=True,
        clinicians=("Dr Emeka Obi", "Dr Rachel Stein", "Dr Marcus Hale"),
        sites=("NTH-RNI", "NTH-ETC"),
        procedure=ProcedureInfo("Endoscopy", "Endoscopy Unit", 30),
    ),
    SpecialtyInfo(
        code="RESP", name="Respiratory medicine", surgical=False, cancer=True, affected=True,
        clinicians=("Dr Isobel Grant", "Dr Harpreet Sandhu", "Dr Peter Okonkwo"),
        sites=("NTH-NGH", "NTH-MCH"),
        procedure=ProcedureInfo("Bronchoscopy", "Endoscopy Unit", 45),
    ),
    SpecialtyInfo(
        code="RHEU", name="Rheumatology", surgical=False, cancer=False, affected=False,
        clinicians=("Dr Anna Kowalczyk", "Dr James Whitaker", "Dr Leila Haddad"),
        sites=("NTH-MCH", "NTH-RNI"),
    ),
)

DISRUPTION_NAME = "Resident doctors strike"
DISRUPTION_STAFF_GROUP = "resident doctors"
DISRUPTION_REASON = (
    "Industrial action by resident doctors: planned care is postponed to keep urgent and "
    "emergency care safe."
)

# (ISO 639-1 code for Patient.preferred_language, language name for interpreter bookings)
INTERPRETER_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("pl", "Polish"), ("ur", "Urdu"), ("pa", "Punjabi"), ("bn", "Bengali"), ("ro", "Romanian"),
    ("ar", "Arabic"), ("so", "Somali"), ("pt", "Portuguese"), ("lt", "Lithuanian"),
    ("gu", "Gujarati"),
)

COMMUNICATION_NOTES: dict[CommunicationNeed, str] = {
    CommunicationNeed.EASY_READ: "Easy read letters and messages, please.",
    CommunicationNeed.LARGE_PRINT: "Large print (18 point) for all letters.",
    CommunicationNeed.BSL: "Deaf, uses British Sign Language: book a BSL interpreter; contact "
                           "by email or video relay, not by voice call.",
    CommunicationNeed.INTERPRETER: "Needs a {language} interpreter for calls and appointments.",
    CommunicationNeed.CARER_CONTACT: "Contact through their named carer before any change.",
    CommunicationNeed.NO_TEXT_MESSAGES: "Does not use text messages: phone or write instead.",
}

GIVEN_NAMES_FEMALE: tuple[str, ...] = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
    "Grace", "Freya", "Florence", "Willow", "Evie", "Poppy", "Ella", "Emily", "Sienna", "Daisy",
    "Margaret", "Patricia", "Susan", "Janet", "Linda", "Christine", "Elaine", "Pauline", "Doreen",
    "Maureen", "Joan", "Sheila", "Brenda", "Valerie", "Carol", "Karen", "Julie", "Tracey",
    "Michelle", "Nicola", "Joanne", "Claire", "Rachel", "Sarah", "Emma", "Laura", "Hannah",
    "Gemma", "Amy", "Jessica", "Priya", "Aisha", "Fatima", "Zainab", "Amina", "Nadia", "Sana",
    "Mariam", "Anjali", "Harpreet", "Simran", "Mei", "Yan", "Agnieszka", "Katarzyna", "Ioana",
    "Elena", "Chiamaka", "Ngozi", "Abena", "Siobhan", "Aoife", "Niamh", "Catrin", "Eilidh",
    "Morag", "Bethan", "Rhiannon", "Ruth", "Esther",
)
GIVEN_NAMES_MALE: tuple[str, ...] = (
    "Oliver", "George", "Noah", "Arthur", "Leo", "Muhammad", "Harry", "Oscar", "Archie", "Henry",
    "Theodore", "Freddie", "Jack", "Charlie", "Alfie", "Thomas", "Jacob", "Finley", "Isaac",
    "Joshua", "John", "David", "Michael", "Peter", "Robert", "Paul", "Stephen", "Andrew",
    "Richard", "Mark", "Ian", "Keith", "Brian", "Kevin", "Gary", "Colin", "Derek", "Trevor",
    "Graham", "Malcolm", "Raymond", "Kenneth", "Dennis", "Terence", "Stuart", "Darren", "Lee",
    "Craig", "Jason", "Daniel", "Ahmed", "Omar", "Bilal", "Hassan", "Imran", "Tariq", "Arjun",
    "Rohan", "Vikram", "Gurpreet", "Jaspal", "Wei", "Jun", "Piotr", "Tomasz", "Andrei",
    "Mihai", "Chinedu", "Kwame", "Kofi", "Emeka", "Sean", "Ciaran", "Padraig", "Rhys", "Dafydd",
    "Callum", "Angus", "Ewan", "Samuel",
)
FAMILY_NAMES: tuple[str, ...] = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips", "Mason", "Mitchell",
    "Rose", "Davis", "Rodriguez", "Cox", "Alexander", "Garden", "Campbell", "Johnston", "Moore",
    "Smyth", "O'Neill", "Doherty", "Stewart", "Quinn", "Murphy", "Graham", "Mclaughlin",
    "Hamilton", "Murray", "Hughes", "Robertson", "Thomson", "Scott", "Macdonald", "Reid",
    "Clark", "Ross", "Young", "Watson", "Paterson", "Morrison", "Hussain", "Ali", "Ahmed",
    "Begum", "Akhtar", "Shah", "Iqbal", "Rahman", "Singh", "Kaur", "Sharma", "Gill", "Sandhu",
    "Chauhan", "Mistry", "Chowdhury", "Islam", "Uddin", "Okafor", "Adeyemi", "Mensah", "Owusu",
    "Nwosu", "Okonkwo", "Asante", "Boateng", "Chen", "Wang", "Li", "Zhang", "Nguyen", "Tran",
    "Kowalski", "Nowak", "Wisniewski", "Lewandowski", "Popescu", "Ionescu", "Kazlauskas",
    "Silva", "Santos", "Costa", "Ferreira", "Abdi", "Mohamed", "Hassan", "Ibrahim", "Yilmaz",
    "Demir", "Kaya", "Fletcher", "Barker", "Chapman", "Marshall", "Harrison", "Pearson",
    "Holmes", "Lloyd", "Ward", "Turner", "Parker", "Cooper", "Bailey", "Bell", "Shaw", "Kelly",
    "Collins", "Cook", "Morris", "Bennett", "Gray", "Howard", "Fox", "Hunt", "Price", "Bates",
    "Ellis", "Walsh", "Knight", "Butler", "Lawrence", "Russell", "Webb", "Armstrong-Jones",
    "Pryce", "Llewellyn", "Vaughan", "Rees", "Ashworth", "Whittaker", "Ormerod", "Haworth",
)
