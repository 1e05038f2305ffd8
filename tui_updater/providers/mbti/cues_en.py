"""English MBTI cues as data: ``cue = weights`` entries, ``;`` or newline separated.

A weight is a letter and a strength (``E3``: three points toward E). The Big Five sections take
their strength from the published factor ↔ scale correlations (McCrae & Costa 1989: Extraversion
↔ E/I r≈.7 → 3; Openness ↔ S/N r≈.7 → 3, and ↔ J/P r≈.3 → a secondary P; Agreeableness ↔ T/F
r≈.45 → 2; Conscientiousness ↔ J/P r≈.5 → 2; Neuroticism ↔ I and F, weak → ≤ 1.5). Single words
also match their inflected and derived forms (quiet: quietly, quieter, quietness); a multi-word
cue matches as a phrase (``her``/``his``/``their`` are written ``one's``, ``herself`` …
``oneself``). A cue of weight ``0`` only blocks a shorter one inside it ("out loud").
"""

from __future__ import annotations

# Goldberg (1992) unipolar Big Five markers and Saucier (1994) Mini-Markers, by factor and pole.
BIG_FIVE = """
extraverted = E3; extroverted = E3; extravert = E3; extrovert = E3; talkative = E3; verbal = E1.5
assertive = E2 T0.5 J0.5; energetic = E2 S0.5; bold = E2 P0.5; active = E1.5 S0.5
daring = E1.5 P1 S0.5; vigorous = E1.5 S0.5; unrestrained = E1 P1.5
introverted = I3; introvert = I3; shy = I3; quiet = I2.5; reserved = I3; untalkative = I3
withdrawn = I3; timid = I2 F0.5; bashful = I2.5; inhibited = I2 J0.5; unadventurous = I1 S1 J1
warm = F2.5 E0.5; kind = F2.5; cooperative = F1.5 J0.5; unselfish = F2; polite = F1 J1
agreeable = F2; trustful = F1.5; trusting = F1.5; generous = F2; considerate = F2
pleasant = F1.5; sympathetic = F2.5; cold = T2 I1; unkind = T2; uncooperative = T1 P0.5
selfish = T1.5; rude = T1.5 E0.5; disagreeable = T2; distrustful = T1.5 I1; stingy = T1 S1 J1
inconsiderate = T1.5; harsh = T2 J1; unsympathetic = T2.5; callous = T2.5
organized = J3; organised = J3; systematic = J2.5 T0.5; thorough = J2.5 S0.5; practical = S3 J1
neat = J2 S0.5; efficient = J2 T1.5 S0.5; careful = J2 S0.5 I0.5; steady = J1.5 S1 I0.5
conscientious = J3; prompt = J2; disorganized = P3; disorganised = P3; careless = P2.5
unsystematic = P2.5; inefficient = P2; sloppy = P2.5; undependable = P2; haphazard = P2.5
negligent = P2; inconsistent = P1.5; impractical = N1.5 P1.5
moody = F1.5 I0.5; jealous = F1.5; temperamental = F1.5 P1; envious = F1; touchy = F1.5
fretful = F1.5 I0.5; emotional = F2.5; insecure = F1 I1; irritable = F0.5 P0.5; nervous = F0.5 I1
anxious = F1 I0.5 J0.5; relaxed = P1.5; unemotional = T2.5 I0.5; imperturbable = T1.5 I0.5
unenvious = T0.5
intellectual = N2.5 T1; creative = N3 P0.5; complex = N2; imaginative = N3 P0.5; bright = N1 T0.5
philosophical = N3; artistic = N2 F1; deep = N1; innovative = N3 P0.5; introspective = N1.5 I1.5
unintellectual = S2; unimaginative = S3 J0.5; uncreative = S2.5; simple = S1.5; shallow = S1.5
unsophisticated = S1.5; unreflective = S1.5 P0.5; reflective = N1.5 I1; intelligent = N1 T1.5
"""

EXTRAVERSION = """
outgoing = E3; chatty = E3; sociable = E3; gregarious = E3; boisterous = E3 P0.5; loud = E2
noisy = E2; lively = E2.5; bubbly = E3 F0.5; exuberant = E2.5; enthusiastic = E2 F0.5
charismatic = E2.5; flamboyant = E2.5 P1; theatrical = E2 P0.5; dramatic = E1.5 F1; showy = E2
show-off = E2.5; attention-seeking = E2.5; friendly = E1.5 F1; cheerful = E1.5 F0.5; jolly = E2
jovial = E2; upbeat = E1.5; confident = E1.5; cocky = E2; brash = E2 P1 S0.5
flirtatious = E2 P0.5; flirty = E2 P0.5; flirt = E2 P0.5; fast-talking = E2 P0.5
silver-tongued = E1.5 N0.5; loudmouth = E2.5; loudmouthed = E2.5; rowdy = E2 P1; wild = E1.5 P2
hyperactive = E2 P1.5; spirited = E1.5; vivacious = E2.5; effervescent = E2.5; socialite = E2.5
entertainer = E2 S0.5; performer = E1.5; crowd = E1; crowds = E1; parties = E2; party = E1
partying = E2.5 P1; extroversion = E3; popular = E1.5; animated = E2; expressive = E1.5 F1
talker = E2.5; gossip = E2 S0.5; gossipy = E2 S0.5; rambunctious = E2 P1; excitable = E1.5 P1
larger-than-life = E2.5; magnetic = E2; boastful = E2 T0.5; braggart = E2; swagger = E2 S0.5
blustering = E2; gushing = E2 F1; exuberance = E2.5; joking = E1.5; jokes = E1.5; joker = E2 P1
speeches = E1.5; rallies = E1.5 J0.5; befriends = E1.5 F1; mingles = E2.5; mingle = E2.5
life of the party = E3 P1; social butterfly = E3; people person = E3 F1; makes friends = E2
makes friends easily = E3; center of attention = E2.5; centre of attention = E2.5
talks over = E2 T0.5; talks and talks = E2.5; never shuts up = E2.5; big mouth = E2.5
loves company = E2.5; the crowd = E1; out loud = 0; loud and clear = 0
"""

INTROVERSION = """
private = I2; secretive = I2 T0.5; reclusive = I3; recluse = I3; hermit = I3; solitary = I3
loner = I3; aloof = I2.5 T1; distant = I1.5 T0.5; detached = I1.5 T1.5; guarded = I2 T0.5
taciturn = I3; laconic = I2.5; terse = I1.5 T1; silent = I2.5; silence = I1.5; alone = I1
soft-spoken = I2 F0.5; mild = I1 F1; mild-mannered = I1.5 F0.5; awkward = I1.5
brooding = I2 F0.5 N0.5; melancholy = I1.5 F1 N0.5; melancholic = I1.5 F1 N0.5; stoic = I2 T1 J0.5
gruff = I1 T1; deadpan = I1.5 T1; icy = I1.5 T2; lonely = I1.5 F0.5; isolated = I1.5
mysterious = I1.5 N1; enigmatic = I1.5 N1; inscrutable = I2 N0.5; wallflower = I3
bookish = I2 N1; bookworm = I2 N1; nerdy = I1.5 N1; homebody = I2.5 S0.5; wary = I1.5 T0.5
paranoid = I1 N0.5; solitude = I2.5; introspection = I1.5 N1.5; low-key = I2; unassuming = I1.5
self-contained = I2; self-effacing = I1.5 F1; retiring = I2; demure = I2 F0.5; meek = I2 F1
lone = I1.5; loners = I3; socially awkward = I2.5 T0.5; awkward in company = I2.5
keeps to oneself = I3; keeps oneself to oneself = I3; keeps one's distance = I2.5 T0.5
keeps one's feelings = I1.5 T1; hides one's feelings = I1.5 T0.5; works alone = I2
of few words = I3; speaks little = I2.5; says little = I2.5; speaks only when = I2.5
lone wolf = I3; few friends = I2; trusts few = I1.5 T0.5; trusts no one = I1 T1
prefers solitude = I3; stays home = I2; rarely speaks = I3; barely speaks = I3
would rather read = I2 N1; under lock and key = I1.5 T0.5; behind a mask = I1.5
"""

INTUITION = """
imagination = N2.5; dreamer = N3 F1 P1; dreamy = N2.5 F1 P1; daydream = N2.5 P1
daydreamer = N3 P1; daydreams = N2.5 P1; dreams = N1; visionary = N3; idealistic = N2.5 F1.5
idealist = N2.5 F1.5; idealism = N2.5 F1.5; abstract = N2.5; theoretical = N2.5 T1; theory = N2 T1
theories = N2 T1; hypothesis = N2 T1; hypotheses = N2 T1; ideas = N1.5; curious = N2 P0.5
curiosity = N2 P0.5; eccentric = N2 P1; quirky = N2 P1; kooky = N2 P1; odd = N1.5; weird = N1.5 P0.5
strange = N1; unconventional = N2.5 P1.5; unorthodox = N2 P1; original = N1.5; mystical = N2.5 F0.5
spiritual = N1.5 F1; intuitive = N3; intuition = N2.5; insightful = N2 F0.5; perceptive = N1.5
far-seeing = N2.5; foresight = N2 J1; riddles = N2; riddle = N2; cryptic = N2 I1; poetic = N2 F1.5
poet = N2 F1.5; poetry = N2 F1; philosopher = N3; genius = N2 T1.5; brilliant = N1.5 T1
strategist = N2 T2 J1; strategic = N2 T2 J1; strategy = N1.5 T1.5 J1; mastermind = N2.5 T2 J1.5
schemes = N1.5 T1; scheming = N1.5 T1.5 J0.5; schemer = N1.5 T1.5; manipulative = N1 T2
manipulates = N1 T2; manipulate = N1 T2; chess = N1.5 T1.5; futurist = N3; future = N1
possibilities = N2; patterns = N1.5; symbolism = N2; fantasizes = N2; whimsical = N2 P1.5 F0.5
vision = N1.5; prophetic = N2; prophecy = N1.5; thinker = N1.5 T1.5 I0.5; ponders = N2 I1
contemplative = N2 I1.5; novelist = N1.5 I0.5; novels = N1; writer = N1.5 I1; composer = N1.5
experimental = N2 P1; experiments = N1.5 T1; erudite = N2 T0.5; well-read = N1.5 I0.5; reads = N0.5 I0.5
books = N0.5 I0.5; absent-minded = N2.5 P1.5; otherworldly = N2.5; serene = I1 F0.5 N0.5
ethereal = N2; unusual = N1.5; bizarre = N1.5; delusional = N2; deluded = N2; romantic = N1.5 F2 P0.5
inventor = N2.5 T1; invents = N2 T0.5; inventive = N2.5; invention = N2 T0.5; invent = N2
ingenious = N2.5 T1; clever = N1 T1.5; intellect = N2 T1; wise = N1.5 F0.5; wisdom = N1.5 F0.5
sage = N2 I1 F0.5; oracle = N2.5 I1; mystic = N2.5 I1; mysteries = N1.5; prodigy = N1.5 T0.5
scholar = N1.5 T1 I1; scholarly = N1.5 T1 I1; professor = N1 T1 I0.5; physicist = N2 T2
scientist = N1.5 T2; researcher = N1.5 T1.5; science = N1 T1; hypothesizes = N2 T1; symbolic = N2
metaphor = N1.5; metaphors = N1.5; philosophy = N2.5; meaning = N1 F0.5; utopia = N2.5 F1
deduction = T2 N1; deduces = T2 N1; deductive = T2 N1; probabilities = T2 N1; puzzle = N1 T1
puzzles = N1 T1; enigma = N1.5 I1; wonders = N1; imaginary = N2 P0.5; idealized = N2 F1
big picture = N2.5; long game = N2 J1.5; moves ahead = N2 J1; several moves ahead = N2 T1 J1.5
head in the clouds = N3 P1.5; lost in thought = N2.5 I1.5; deep thinker = N2.5 I1
reads hearts = N2 F1; reads people = N1 E0.5; sees through = N1.5; sees the good = N1 F1.5
in one's own world = N2.5 I2; own little world = N2.5 I2; one's own world = N2.5 I2
thinks ahead = N1.5 J2; reads minds = N1.5; free spirit = P3 N1 E0.5; deep down = 0
"""

SENSING = """
pragmatic = S2 T1.5; down-to-earth = S3; grounded = S2.5; realistic = S2.5 T0.5; realist = S2.5 T0.5
sensible = S2.5 J1; concrete = S2; literal = S2; hands-on = S3 P0.5; handy = S2; mechanic = S2.5 T1 P0.5
mechanical = S1.5 T0.5; craftsman = S2.5 J0.5; craftswoman = S2.5 J0.5; woodworking = S2.5 I0.5
tinkers = S1.5 P0.5; tinkerer = S2 P0.5; fixes = S1.5; repairs = S1.5; athletic = S2.5 E0.5 P0.5
athlete = S2.5 E0.5; sporty = S2.5 E1; physical = S1.5; tough = S1.5 T1; fighter = S2 P1
brawl = S1.5 E1 P1; brawls = S1.5 E1 P1; brawler = S2 E1 P1; soldier = S1.5 J1.5
warrior = S1.5 P0.5; combat = S1.5 P0.5; swordsman = S1.5; swordswoman = S1.5; hunter = S2 P1
survival = S1.5 P0.5; thrill = S2 P2 E1; thrills = S2 P2 E1; thrill-seeker = S2 P2 E1.5
adrenaline = S2 P1.5 E1; speed = S1.5 P1; instinct = S1.5 P1.5; instincts = S1.5 P1.5
traditional = S2.5 J2; tradition = S2 J1.5; traditions = S2 J1.5; conventional = S2.5 J1.5
conservative = S2 J1.5; old-fashioned = S2 J1; routine = S2 J2; routines = S2 J2; habits = S1 J1
detail-oriented = S2.5 J2; details = S1.5 J1; detail = S1.5 J1; meticulous = S1.5 J2.5
observant = S2; observation = S1.5; notices = S1; uncomplicated = S1.5; materialistic = S2
food = S1 E0.5; hungry = S1; gluttonous = S1.5 P1; glutton = S1.5 P1; foodie = S1.5 E0.5
cooking = S1; cooks = S1; chef = S1.5; gardener = S1.5 I0.5; gardening = S1.5 I0.5; farm = S1.5
farmer = S2 J0.5; hard-working = S1 J2; hardworking = S1 J2; homely = S1; cozy = S1; plain = S1
street-smart = S2.5 P0.5 E0.5; streetwise = S2 P0.5; sensual = S2 P1; fashion = S1.5 E1
stylish = S1 E0.5; engineer = S1 T2 J0.5; racer = S2 P1.5 E1; racing = S2 P1.5 E1
fast cars = S2 P1.5; boxer = S2 P0.5; sports = S2 E0.5; gym = S2; muscles = S1.5; brute = S1.5 T0.5
earthy = S2; no-frills = S2 J0.5; frugal = S1.5 J1.5; thrifty = S1.5 J1.5; literal-minded = S2.5
common sense = S2.5; with one's hands = S2.5; good with one's hands = S2.5; in the moment = S2 P1.5
lives in the moment = S2.5 P2; gut feeling = P1 F0.5; hands = S0.5; weapons = S1; guns = S1 P0.5
gadgets = S1 T0.5; machines = S1 T1; engines = S1.5; cars = S1; motorcycle = S1.5 P1
"""

FEELING = """
kind-hearted = F3; kindhearted = F3; softhearted = F3; soft-hearted = F3; selfless = F2.5 J0.5
empathetic = F3; empathy = F2.5; compassionate = F3; compassion = F2.5; caring = F2.5; cares = F1.5
gentle = F2.5 I0.5; tender = F2.5; tender-hearted = F3; loving = F2.5; affectionate = F2.5 E0.5
sweet = F2; sensitive = F2.5; feelings = F1.5; heart = F1; big-hearted = F2.5; good-natured = F2
good-hearted = F2.5; sincere = F1.5; nurturing = F2.5 J0.5; motherly = F2 S0.5 J0.5
maternal = F2; protective = F1.5 J0.5; forgiving = F2; harmony = F2; peacemaker = F2.5
pacifist = F2 N0.5; altruistic = F2.5; benevolent = F2; merciful = F2; mercy = F1.5; humane = F1.5
soft = F1.5; soft spot = F2; tearful = F2; cries = F1.5; weeps = F1.5; tears = F1.5
sentimental = F2.5; devoted = F1.5 J1; devotion = F1.5 J1; helpful = F1.5 J0.5; helps = F1
comforting = F2; comforts = F1.5; supportive = F2; encouraging = F1.5 E0.5; inspires = F1.5 E1 N1
inspiring = F1.5 E1 N1; naive = F1.5 N0.5; innocent = F1.5; pure-hearted = F2.5; guilt = F1.5
guilt-ridden = F2.5; worries = F1 J0.5; worried = F1; passionate = F1.5 E1; heartfelt = F2
loyal = F1 J1 S0.5; loyalty = F1 J1 S0.5; faithful = F1 J1 S0.5; decent = F1 J0.5; humble = I1 F0.5 S0.5
modest = I1 F0.5; patient = J1 I0.5 F0.5; patience = J1 I0.5 F0.5; moral = J0.5 F0.5
principled = J1.5 F0.5; integrity = J1 F0.5; feels = F1.5; feeling = F1
emotions = F1.5; emotion = F1.5; emotionally = F2; hurt = F1; heartbroken = F2; lovesick = F2.5
people-pleaser = F2.5 E0.5; doormat = F2 I0.5; pushover = F2; charitable = F2; gracious = F1.5
warmth = F2.5 E0.5; warm-hearted = F3; friendliness = F1.5 E1; cuddly = F2; adorable = F1.5
softie = F2.5; kindness = F2.5; sweetness = F2; healer = F2 N0.5; nurse = F1.5 S1 J0.5
sense of right and wrong = F1 J0.5; follows one's heart = F2 P1.5; wears one's heart = F2 E1
heart of gold = F3; kind to = F2; cares deeply = F2.5; puts others first = F2.5 J0.5
kind of = 0; a kind = 0; all kinds = 0
"""

THINKING = """
logical = T3; logic = T2.5; rational = T2.5; analytical = T3; analytic = T2.5; objective = T2
cold-blooded = T2.5; cold-hearted = T2.5; ruthless = T2.5 J1; merciless = T2.5; heartless = T2.5
cruel = T1.5; calculating = T2.5 J1 N0.5; calculated = T2 J1; shrewd = T2 S1; cunning = T2 N1
crafty = T1.5 N0.5; sly = T1.5 N0.5; devious = T1.5 N1; smart = T1 N0.5; sharp = T1.5
sharp-tongued = T2 E0.5; sarcastic = T2 E0.5; sardonic = T2 I0.5; cynical = T2 N0.5; cynic = T2 N0.5
critical = T2 J0.5; skeptical = T2 N0.5; sceptical = T2 N0.5; blunt = T2.5; direct = T1.5
frank = T1.5; straightforward = T1.5 S0.5; tactless = T2 E0.5; no-nonsense = T2 J2 S1
unsentimental = T2.5; composed = T1.5 I0.5 J0.5; level-headed = T2 S0.5 J1; calm = T1 I1
cool = T1 I0.5; cool-headed = T2 I0.5; competitive = T1.5 E1 J0.5; ambitious = T1.5 J1.5 E0.5
ambition = T1.5 J1.5 E0.5; power-hungry = T2 J1; domineering = T2 E1 J1.5; bossy = T1.5 E1.5 J1.5
imperious = T2 J1.5; arrogant = T1.5 E0.5; arrogance = T1.5 E0.5; proud = T1 J0.5
conceited = T1 E0.5; smug = T1.5; condescending = T2; contempt = T1.5; scornful = T1.5; scorns = T1
tough-minded = T2.5; tactician = T2 N1 J1; hard-nosed = T2 S1 J1; grim = T1 I1 J0.5
severe = T1.5 J1.5; impartial = T2 J0.5; fair = T0.5 J1; reasoning = T2 N0.5; detective = N0.5 T0.5
mathematics = T2 N1; mathematician = T2 N1 I0.5; chemistry = T1 N0.5; hacker = T1.5 N1 P1 I1
programmer = T1.5 I1; emotionless = T3 I1; misanthropic = T2 I1.5; misanthrope = T2 I1.5
villainous = T1; menacing = T1 I0.5; intimidating = T1.5 E0.5; brutal = T2 S1; sadistic = T2
egotistical = T1.5 E1; egotist = T1.5 E1; vain = E0.5 T0.5; greedy = T1.5 S1; mercenary = S1.5 T1.5 P1
opportunist = P1.5 T1 S1; opportunistic = P1.5 T1 S1; unfeeling = T3; pitiless = T2.5
clinical = T2.5 J0.5; methodically = J2.5 T1; efficiently = J2 T1; decisive = T1.5 J2.5 E0.5
incisive = T2 N0.5; cutting = T1.5; caustic = T2; acerbic = T2; dry wit = T1.5 I0.5; witty = T1 N1 E0.5
wit = T1 N1; quick-witted = T1 N1 E0.5; argumentative = T2 E1 N0.5; argues = T1.5 E0.5
debates = T1.5 E0.5 N0.5; debate = T1.5 E0.5 N0.5; contrarian = T1.5 N1 P0.5; pedantic = T1.5 J1.5
assassin = I1 T1.5 S1; sniper = I1.5 S1.5 T1 J1; spy = I1 T1 S0.5; lawyer = T1.5 E0.5 J0.5
tyrant = T2 J1.5; manipulator = T2 N1; puppet master = T2 N1.5 J1.5; trusts nothing = T1.5 I1
"""

JUDGING = """
punctual = J3; disciplined = J3; discipline = J2.5; self-disciplined = J3; structured = J2.5
orderly = J3; order = J1; methodical = J3 S0.5; method = J1.5; planned = J2; plans = J2; plan = J1.5
planning = J2; planner = J3; schedule = J2.5; schedules = J2.5; timetable = J2.5; lists = J1.5
binders = J2.5; rules = J2 S1; rulebook = J2.5 S1; rule-follower = J3 S1; rule-obsessed = J3 S1
law = J1 S0.5; laws = J1 S0.5; lawful = J2 S1; procedure = J2.5 S1; procedures = J2.5 S1
procedural = J2.5 S1; protocol = J2 S1; regulations = J2 S1; decrees = J1.5; control = J1.5 T0.5
controlling = J2 T1 E0.5; perfectionist = J2.5 T0.5; perfection = J2; perfectionism = J2.5
precise = J2 T1 S0.5; precision = J2 T0.5; exacting = J2.5 T1; fastidious = J2.5 S1; fussy = J2 S1
responsible = J2.5 S0.5; responsibility = J2; dependable = J2 S1; reliable = J2 S1; duty = J2 S1
dutiful = J2.5 S1.5 F0.5; obedient = J2 S1 F0.5; obeys = J1.5 S0.5; hierarchy = J2 S1
authority = J1.5 S0.5; prepared = J2; preparation = J2; contingency = J2 N0.5; determined = J1.5
resolute = J1.5; persistent = J1.5; unwavering = J1.5; steadfast = J1.5 S0.5; honourable = J1.5 S0.5
honorable = J1.5 S0.5; honour = J1 S0.5; honor = J1 S0.5; upright = J1.5 S0.5; proper = J2 S1
prim = J2 S1; manners = J1.5 S1; etiquette = J2 S1; formal = J2 S1 I0.5; serious = J1 T0.5 I0.5
solemn = J1 I1; earnest = J1 F0.5; diligent = J2.5 S0.5; industrious = J2 S0.5; strict = J2.5 T1 S0.5
stern = J2 T1.5 I0.5; goal-oriented = J2.5 T1; goals = J1.5; targets = J1.5 T0.5; deadline = J2
deadlines = J2; productive = J2; workaholic = J2.5 T0.5; predictable = J2 S1; consistent = J1.5
dedicated = J1.5; stubborn = J1; obstinate = J1; headstrong = P0.5 E0.5; tidy = J2 S0.5
clean = J1 S0.5; cautious = J1.5 I1 S0.5; prudent = J1.5 S0.5; leader = E0.5 J1; commanding = E1.5 T1 J1.5
commands = E1 J1; commander = E1 T1 J1.5; captain = E0.5 J1 T0.5; general = T1 J1.5 E0.5
officer = J1.5 S1; police = J1.5 S1; librarian = I2 J1.5 S1; archivist = I2 J2 S1.5
accountant = S1.5 J2 T1; butler = J2 S1.5 I1 F0.5; knight = J1.5 S1 F0.5; monk = I1.5 J1.5
nun = J1.5 F1 I1; keeper = J1 S0.5 I0.5; records = J1 S0.5; ledger = J2 S1 T0.5; ledgers = J2 S1 T0.5
punctuality = J3; organizer = J2.5 E0.5; organiser = J2.5 E0.5; neatness = J2 S0.5
tradition-bound = S2 J2.5; set in one's ways = S2 J2; set in one's habits = S2 J2
by the book = S2 J3; by-the-book = S2 J3; follows the rules = J2.5 S1; follows rules = J2.5 S1
follows orders = J2 S1; gives orders = E1 T1 J1.5; chain of command = J2.5 S1
keeps one's word = J2 S0.5; keeps one's promises = J2 F0.5; plans ahead = J3
plans every = J2.5 N0.5; every contingency = J2.5 N0.5; to-do list = J2.5; told what to do = J2
thinks before = J1.5 I0.5; in order to = 0; in order = 0; out of order = 0; what to do = 0
"""

PERCEIVING = """
spontaneous = P3 E0.5; spontaneity = P3 E0.5; impulsive = P3 S1 E0.5; impulse = P2; whim = P2.5
whims = P2.5; improvises = P3 N0.5 E0.5; improvise = P3 N0.5; improvisation = P2.5 N0.5
improvised = P2; flexible = P2.5; adaptable = P2.5; adaptive = P2; easygoing = P2.5 E0.5 F0.5
easy-going = P2.5 E0.5 F0.5; laid-back = P2.5; carefree = P3 E0.5; free-spirited = P3 N1 E1
freedom = P2; independent = P1 I0.5 T0.5; rebellious = P2.5 E0.5; rebel = P2.5; rebels = P2.5
defiant = P2 T0.5; disobedient = P2; unruly = P2.5 E0.5; mischievous = P2.5 E1; mischief = P2.5 E1
prankster = P2.5 E1.5 S0.5; pranks = P2.5 E1 S0.5; playful = P2 E1.5; troublemaker = P2.5 E1 S0.5
trouble = P1; chaotic = P3 E0.5; chaos = P2.5; unpredictable = P2.5 N0.5; erratic = P2
restless = P2 E1 S0.5; bored = P1 N0.5; boredom = P1 N0.5; procrastinates = P3; procrastinator = P3
lazy = P2.5 S0.5; messy = P2.5; unkempt = P2; scatterbrained = P2.5 N1; reckless = S1.5 P2.5 E1
risk = P1.5 S1; risky = P1.5 S1; risk-taker = P2.5 S1 E1; risks = P1.5 S1; gamble = P2 S0.5
gambler = P2.5 S1 E0.5; adventurous = P2.5 E1.5 S0.5; adventure = P1.5 E0.5; adventurer = P2 E1
explorer = P1.5 N0.5; wanderer = P2.5 N0.5; wanders = P1.5; wandering = P2; drifter = P2.5 S0.5
nomad = P2.5; travels = P1 E0.5; roams = P1.5; vagabond = P2.5; rogue = P2 S1; roguish = P2 E1 S0.5
pirate = P1.5 S0.5; thief = P1.5 S1; scam = P1.5 E0.5; scams = P1.5 E0.5; hustler = P2 E1 S1
loophole = P1.5 T1 N0.5; tomboy = S0.5 P1; daredevil = S1.5 P2 E1.5; wildcard = P2.5
footloose = P3; unstructured = P2.5; messiness = P2.5; slacker = P3; goofy = P2 E1
goofball = P2 E1.5; silly = P1.5 E1; childish = P1.5 E0.5 F0.5; childlike = P1 N0.5 F1
irreverent = P2 T0.5; anarchic = P3; nonconformist = P2.5 N1.5; lawless = P2.5 S0.5; outlaw = P2 S1
smuggler = P1.5 S1 T0.5; gunslinger = S1.5 P1.5 I0.5; cowboy = S1.5 P1.5; bard = E2 F1 P1.5 N0.5
jester = E2 P1.5 N0.5; clown = E2 P1.5; comedian = E2 P1; vagrant = P2.5; forgetful = P1.5 N0.5
forgets = P1 N0.5; distracted = P1.5 N0.5; indulgent = P1.5 S1; hedonistic = P2 S1.5; hedonist = P2 S1.5
on a whim = P3; makes it up as = P3; as one goes = P2.5; goes with the flow = P3
go with the flow = P3; can't sit still = P2.5 E1.5 S1; cannot sit still = P2.5 E1.5 S1
acts without thinking = P2.5 S1 E0.5; acts first = P2 S1 E1; charges in = P1.5 E1 S1
jumps in = P1.5 E1; shoots first = P2 S1; wherever the moment = P2.5; acts on instinct = S1.5 P2
acts on a whim = P3; acts on impulse = P3 S0.5; the moment takes = P2.5; rule-breaker = P3
breaks the rules = P3; bends the rules = P2.5; bends every rule = P2.5; breaks rules = P3
last minute = P2; last-minute = P2; on the fly = P2.5; live in the moment = S2.5 P2
free as a bird = P3; con man = P2 E1 N0.5; con artist = P2 E1 N0.5
"""

# Character-card vocabulary beyond the markers: temperament words, roles and stock phrases.
CARD_VOCABULARY = """
aggressive = E1 T1 S0.5 P0.5; antisocial = I2.5 T1; authoritative = J2 T1 E1; brave = E0.5 S0.5
bravery = E0.5 S0.5; courage = E0.5; courageous = E0.5 S0.5; fearless = E1 S0.5 P1; charming = E2 F0.5
charm = E1.5; cheeky = E1.5 P1.5; chill = P2 I0.5; clumsy = P1 F0.5 N0.5; collected = T1.5 J0.5 I0.5
cranky = T1 I0.5; grumpy = T1 I1; grouchy = T1 I1; curmudgeon = T1.5 I1.5 J1 S0.5; crude = S1 T1 E0.5 P1
vulgar = S1 E1 P1; foul-mouthed = E1 S0.5 T1 P1; deceptive = T1.5 N0.5; liar = T1 P1 E0.5; lies = T0.5 P0.5
depressed = I1.5 F1; gloomy = I1.5 F0.5; dignified = J1.5 I0.5; regal = J1 E0.5; noble = J1 F0.5
noble-hearted = F2 J1; refined = J1 N0.5 I0.5; elegant = J1 S0.5; sophisticated = N1 J0.5; suave = E1.5 T0.5
smooth = E1 T0.5; dorky = N1 P1 I0.5; geeky = N1 I1; nerd = I1.5 N1 T0.5; driven = J2 T1; relentless = J1.5 T1
tenacious = J1.5; tireless = J1.5; resilient = J0.5 S0.5; feral = S1.5 P2; savage = S1 T1 P1
fierce = E1 T0.5 S0.5; fiery = E1.5 F0.5 P1; hot-headed = E1 P2 S1; hot-tempered = E1 P1.5 S0.5
short-tempered = E0.5 P1 T0.5; temper = P0.5 E0.5; hasty = P2 S1; rash = P2 S1 E0.5; impatient = E0.5 S0.5 P0.5
haunted = I1 F0.5 N0.5; tormented = I1 F1; troubled = I1 F0.5; heroic = E0.5 F0.5 J0.5; honest = J0.5
hopeful = F1 N1 E0.5; optimistic = E1 F0.5 N0.5 P0.5; pessimistic = I1 T0.5; sunny = E2 F0.5
peppy = E2.5 P0.5; perky = E2.5; hyper = E2 P1.5; immature = P1.5 E0.5 F0.5; mature = J1.5 I0.5; inept = P1
insane = N1 P2; mad = N1 P1.5; unhinged = P2.5 N1 E0.5; psychopath = T2.5 P0.5; sociopath = T2.5
inquisitive = N2 P0.5; know-it-all = T1.5 N0.5 J1 E1; studious = J1.5 I1 N0.5; law-abiding = J2.5 S1
rigid = J2.5 S1; uptight = J2.5 S0.5; machiavellian = T2.5 N1.5 J1; megalomaniac = E1 T2 N1 J1
tyrannical = T2 J2 E1; narcissistic = E1 T1.5; obsessed = J1 I0.5; obsessive = J1.5 I0.5
opinionated = T1.5 E1 J1; outspoken = E2 T1; vocal = E2; overprotective = F1.5 J1; playboy = E2 S1 P2
womanizer = E1.5 S1 P1.5; seductive = E1.5 S1; musical = F1 N0.5 P0.5; sassy = E1.5 T0.5 P0.5
snarky = T1.5 E0.5; sneaky = T1 P1 I0.5; trickster = P2.5 E1 N1; sleepy = P1.5 I0.5; mellow = P1.5 I1 F0.5
frosty = T1.5 I1; self-reliant = I1.5 T1; trustworthy = J1.5 S0.5 F0.5; tactical = T2 J1 N0.5
vengeful = T1 J1; violent = S1 T1 P1; wanderlust = P2.5 N0.5; wholesome = F1.5 S0.5 J0.5
wistful = F1.5 N1 I1; gentleman = J1 F0.5; grounded in = 0; hot temper = E1 P1.5 S0.5
quick temper = E0.5 P1.5; short fuse = P1.5 E0.5; natural leader = E2 J1; born leader = E2 J1 T0.5
neat freak = J3 S1; control freak = J3 T1; party animal = E3 P2 S1; comic relief = E2 P1
class clown = E2.5 P1.5; wise-cracking = E1.5 T0.5 P0.5; wisecracking = E1.5 T0.5 P0.5
smart mouth = E1.5 T1; heart on one's sleeve = F2 E1; plays by the rules = J2.5 S1
accommodating = F2 P0.5; affable = E1.5 F1.5; alert = S1; amiable = F1.5 E1; amusing = E1.5
angry = E0.5 T0.5 P0.5; apathetic = I1 T1 P1; appreciative = F1.5; articulate = E1 N0.5; attentive = F1 S1 J0.5
audacious = E1.5 P1.5; austere = J2 I1 S1; authentic = F1; belligerent = E1 T1.5 S0.5; bitter = T1 I1
candid = T1.5 E0.5; capable = J1 T0.5; chivalrous = F1 J1.5; complacent = P1 S1; contrary = T1 P1
courteous = F1 J1.5; cowardly = I1 S0.5; cultured = N1 J0.5; defensive = F0.5 I0.5; delicate = F1.5 I1
demanding = J2 T1.5 E0.5; diplomatic = F1.5 E1 N0.5; discreet = I2 J1; dishonest = T1 P1; dominant = E1.5 T1 J1
dynamic = E2 P0.5; eager = E1 F0.5; egocentric = T1 E1; eloquent = E1.5 N1; ethical = J1 F1; evasive = I1 P1
extravagant = E1.5 S1 P1.5; fearful = I1.5 F0.5; feisty = E1.5 T0.5 P1; fickle = P2.5 F0.5; focused = J2 I0.5
foolish = P1.5; frivolous = P2 E1 S0.5; fun = E1 P1; funny = E1.5 P0.5; genial = E1.5 F1.5; genuine = F1
giddy = E1.5 P1 F0.5; gullible = F1.5 N0.5; happy = E0.5 F0.5; haughty = T1.5 I0.5 J0.5; hesitant = I1 P1
hospitable = F2 E1.5 S0.5; hostile = T1.5; humorous = E1.5 P0.5; impetuous = P2.5 E1 S0.5; indecisive = P2.5 F0.5
indifferent = T1.5 I1; insensitive = T2; intense = J1 I0.5; intolerant = T1 J1.5; irrational = F1 P1
irresponsible = P3; judgmental = J2 T1; knowledgeable = N1 T0.5; levelheaded = T2 S0.5 J1; likable = E1 F1
malicious = T2; miserable = I1 F0.5; narrow-minded = S1.5 J1.5; nonchalant = P2 T0.5; nosy = E1.5 S0.5
obnoxious = E2 T0.5; open-minded = N2 P1.5; overconfident = E1.5 P0.5; passive = I1.5 P1; persuasive = E1.5 N0.5
petty = T1 S0.5; placid = I1 F0.5 P0.5; pompous = E1.5 J1 T0.5; possessive = F1 J1; pretentious = E1 N0.5
proactive = J2 E0.5; quarrelsome = T1.5 E1; quick-tempered = E1 P1.5 S0.5; resourceful = N0.5 P1.5 S0.5
respectful = J1.5 F1; spiteful = T1.5; spoiled = E0.5 P1 F0.5; stable = J1.5 S1; submissive = I1.5 F1 J0.5
superficial = S1.5 E0.5; superstitious = N0.5 S0.5; suspicious = T1 I0.5; tactful = F2 J0.5; talented = 0
tense = J1 I0.5; thoughtful = F1.5 I0.5 N0.5; tolerant = F1.5 P1; tranquil = I1 P0.5; understanding = F2
unreliable = P2.5; versatile = P2 S0.5; vindictive = T1.5 J1; virtuous = J1.5 F0.5; volatile = P2 F1 E0.5
vulnerable = F1.5 I0.5; zany = E1.5 N1 P2; zealous = J1 E1 F0.5
speaks one's mind = E1.5 T1; thinks on one's feet = P2 S0.5 E0.5; follows one's gut = P1.5 S0.5
trusts one's gut = P1.5 S0.5; takes charge = E1.5 J1.5 T0.5; takes the lead = E1.5 J1; brains = N1 T1
keeps everyone in line = J2 E0.5 T0.5; man of action = S2 E1 P1; woman of action = S2 E1 P1
heart of the group = F2 E1.5; glue of the group = F2 E1 J0.5; mother hen = F2 J1.5 E0.5
wise beyond one's years = N1.5 I0.5; nose in a book = I2 N1; plays it safe = J1.5 S1; by ear = P2
wings it = P3; winging it = P3; goes off script = P2; muscle = S1.5
thinks outside the box = N2.5 P1; never stops talking = E2.5; clingy = F1.5 E0.5
hunts = S1.5 P0.5; rough = S1 T0.5 P0.5; tracker = S1.5 I0.5; cold war = 0; cold case = 0; reckless abandon = P2.5 S1
"""

# Words that describe what the cue attaches to: other people and institutions, not the character.
OTHER_NOUNS = """
father mother dad mom mum parents parent stepmother stepfather stepfamily stepsisters stepsister
brother brothers sister sisters siblings aunt uncle grandmother grandfather grandma grandpa
grandparents relatives family family's wife husband son sons daughter daughters children
master mentor boss employer king queen emperor empress school academy university college
monastery army regime government empire kingdom city town village world society household
clan sect guild church orphanage court rival rivals enemy enemies partner boyfriend girlfriend
lover captor captors crew team teammates classmates villagers neighbours neighbors mentors
teachers masters stepmother's father's mother's someone others people
everyone nobody town's city's upbringing childhood home homes realm country nation
"""

# Adverbs whose stem is a cue but which only intensify ("deeply loyal", "simply", "fairly").
INTENSIFIERS = """
deeply = 0; simply = 0; plainly = 0; fairly = 0; directly = 0; practically = 0; mildly = 0
oddly = 0; strangely = 0; wildly = 0; sharply = 0; coolly = T1 I0.5; seriously = J1 T0.5
on time = J2; freely = P1; deep voice = 0; deep in = 0; deep into = 0; kinda = 0
"""
