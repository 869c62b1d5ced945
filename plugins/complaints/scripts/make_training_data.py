# ruff: noqa: E501  (word lists and templates read better on one line each)
"""Write the built-in detector's training set: messages generated from templates and word lists
written for this project (no outside data), seeded, so every run gives the same file.

    python plugins/complaints/scripts/make_training_data.py   # -> helpdesk_complaints/data/train.jsonl

The evaluation set (``data/eval.jsonl``) was written by hand separately; nothing here is copied
from it (different brands, products and sentences), so the figures in bench/ are not measured
on the training data.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "helpdesk_complaints" / "data" / "train.jsonl"

BRANDS = ["@Voltacom", "@NimbusFibre", "@Hartwell", "@OrbitMobile", "@FreshCart", "@RailWest", "@Kettleby",
          "@Lumen_Energy", "@SwiftPost", "@Brightbank", "@TownTaxis", "@PixelPlay", "@Cornerstone_Homes",
          "@Meridian_Air", "@JetLane", "@Harbour_Ferries", "@Tripwise", "@BurgerYard", "@Noodle_Bar", "@Gymnasio"]
THINGS = ["order", "parcel", "package", "delivery", "refund", "bill", "invoice", "account", "router", "phone",
          "laptop", "fridge", "washing machine", "subscription", "booking", "ticket", "claim", "case", "repair",
          "replacement", "bag", "suitcase", "meal", "sofa", "mattress", "connection", "broadband", "card"]
PRODUCTS = ["kettle", "toaster", "headphones", "charger", "jacket", "boots", "blender", "lamp", "desk chair",
            "vacuum", "speaker", "watch", "backpack", "phone case", "mattress", "frying pan", "printer",
            "keyboard", "mouse", "hair dryer", "duvet", "tent", "bike lock", "water bottle"]
DURATIONS = ["2 days", "3 days", "a week", "two weeks", "10 days", "a month", "six weeks", "3 months", "5 hours",
             "an hour", "45 minutes", "since Monday", "since last week", "all weekend", "since March"]
PLACES = ["Leeds", "Cardiff", "Bristol", "Glasgow", "Brighton", "York", "Dublin", "Madrid", "Rome", "Berlin"]
FIXES = ["sort this out", "fix this", "look into this", "get back to me", "call me back", "refund me",
         "send a replacement", "explain what is going on", "escalate this"]

# Problem statements: many without any classic complaint word.
PROBLEMS = [
    "my {thing} is still messed up", "no {thing} yet after {dur}", "my {thing} never showed up",
    "the {thing} is wrong again", "no trains to {place} tonight", "no buses to {place} since {dur2}",
    "internet has been down {dur}", "still no {thing}", "{thing} hasn't arrived", "been charged twice for my {thing}",
    "you took money for a {thing} I cancelled", "the {product} stopped working after {dur}",
    "the {product} arrived broken", "the {product} is missing parts", "the {product} was scratched out of the box",
    "nobody replied to my emails about my {thing}", "waited in all day and the {thing} never came",
    "my {thing} got lost", "the app crashes every time I open my {thing}", "on hold for {dur} about my {thing}",
    "you cancelled my {thing} without telling me", "the engineer didn't turn up", "the driver left my {thing} outside in the rain",
    "I was overcharged on my {thing}", "the price went up again with no warning", "wrong {thing} delivered",
    "my flight to {place} was cancelled and no one is helping", "my bag didn't make it to {place}",
    "the {product} leaks everywhere", "the {product} is much smaller than advertised", "half my {thing} is missing",
    "my {thing} keeps dropping out", "no signal at all for {dur}", "the website won't let me pay",
    "my {thing} has been stuck in processing for {dur}", "your staff were rude to me at the {place} store",
    "still being charged after cancelling", "the room was dirty and smelled of smoke",
    "the food arrived cold and an hour late", "got someone else's {thing}", "you closed my {thing} without fixing it",
    "the {product} fell apart within {dur}", "battery on the {product} dies in an hour", "no hot water {dur}",
    "promised a call back {dur} ago", "meter reading ignored, estimated bill again", "the {product} makes a grinding noise",
    "delivery slot missed for the second time", "3 hours at the gate in {place} with no information",
    "seats we paid for were given away", "the {product} doesn't do half of what the listing says",
]
ANGRY = ["absolute joke", "disgraceful", "shocking service", "what a shambles", "never again", "pathetic",
         "sort it out", "I'm livid", "so angry right now", "this is a scam", "useless company", "ridiculous",
         "lies lies lies", "total rip off", "fuming", "worst company ever", "appalling", "an utter mess",
         "shameful", "can't believe this", "beyond frustrating", "done with you"]
POLITE_OPEN = ["Hi, ", "Hello, ", "Good morning, ", "Hi there, ", "Dear team, ", "Hello team, ", "Hiya, ", ""]
POLITE_WRAP = [
    "I'd appreciate it if someone could finally look at my {thing}.",
    "I'd be grateful if you could {fix}, {problem}.",
    "sorry to chase but {problem}. Could you {fix}?",
    "could someone please {fix}? {Problem}.",
    "{Problem}. Would you mind looking into it? Thanks",
    "I hate to complain but {problem}.",
    "just following up as {problem}. Many thanks",
    "would really appreciate an update, {problem}.",
    "{Problem}, please can you {fix}? Thank you so much",
    "your staff are lovely but {problem}.",
    "I love your products, however {problem}.",
    "thanks for the quick reply but {problem}.",
]
SARCASM_COMPLAINT = [
    "oh great, {problem}. thanks a lot", "wow, {problem}. amazing service as always 🙄",
    "love that {problem}. brilliant", "fantastic, {problem} again. well done", "so glad I pay for this. {problem}",
    "nothing like {problem} to start the day", "thanks for nothing, {problem}", "cheers for {dur} of silence",
]
LETTER_OPEN = ["Dear Sir or Madam,", "Dear Customer Services,", "To whom it may concern,", "Dear Complaints Team,",
               "Dear Manager,", "Dear Ms Roberts,", "Dear Mr Khan,"]
LETTER_CLOSE = ["Yours faithfully, J. Smith", "Kind regards, Alex", "Yours sincerely, M. Ortiz", "Regards, Sam Lee",
                "Sincerely, R. Gupta"]
LETTER_BODY_C = [
    "I am writing about my {thing} (reference {ref}). {Problem}. I have contacted you {n} times without a reply. "
    "I ask that you {fix} within 14 days.",
    "I wish to raise a formal complaint regarding my {thing}. {Problem}, and despite my calls nothing has been done. "
    "Please {fix} and confirm in writing.",
    "Further to my email of {day}, {problem}. This has caused considerable inconvenience to my family. I would be "
    "grateful if you could {fix} without further delay.",
    "On {day} I purchased a {product} from your store. {Problem}. I have returned it twice for repair. I request a "
    "full refund.",
    "I have been a customer for {n} years. Over the last {dur} {problem}, and the explanations I have been given "
    "are inconsistent. I expect a proper response.",
]
LETTER_BODY_N = [
    "I am writing to update the address on my {thing} (reference {ref}). Please send future letters to 4 Elm Road.",
    "I would like to request a copy of the terms for my {thing}. Thank you in advance.",
    "Thank you for resolving my {thing} so quickly last week. Your colleague was very helpful.",
    "Please find attached the form for my {thing}, signed as requested. Let me know if anything else is needed.",
    "I would like to cancel my {thing} from the end of the month as I am moving abroad. Please confirm.",
    "I am writing to ask whether you could provide a quotation for a new {product} for our office.",
    "I wish to compliment your staff at the {place} branch, who were patient and kind on {day}.",
]
QUESTIONS = ["do you deliver to {place}?", "how do I change my {thing}?", "what time do you open on Sunday?",
             "is the {product} back in stock?", "can I pay by bank transfer?", "does the {product} come in blue?",
             "how long does a {thing} usually take?", "can I add someone to my {thing}?",
             "is there a student discount?", "where can I find my {thing} number?", "are dogs allowed?",
             "do you price match?", "when is the sale starting??", "what's the warranty on the {product}?",
             "is the {place} service running tomorrow?", "can I upgrade my {thing} early?",
             "how do I reset my password?", "any news on the new {product}?"]
PRAISE = ["thanks for sorting my {thing} so fast!", "great service today, thank you", "the {product} is brilliant",
          "love the new app", "shoutout to the driver, so friendly 😊", "super quick delivery, cheers",
          "your team were amazing with my {thing}", "{dur} with the {product} and it's still perfect",
          "best customer service I've had", "really impressed, thanks", "excellent as always ⭐⭐⭐⭐⭐",
          "the engineer was fantastic", "refund arrived today, thanks for the help", "problem solved, thank you!",
          "smooth flight to {place}, great crew", "no complaints at all, lovely stay", "10/10 would order again"]
NEUTRAL = ["please update my email address", "I'd like to change my {thing} to next week",
           "sending my meter reading: {ref}", "I need a copy of my {thing}", "booking ref {ref}, seat request sent",
           "I'm moving house next month", "I'll be away so please leave the {thing} with a neighbour",
           "I'd like to return the {product}, it doesn't suit me", "just bought a {product}, setting it up now",
           "DM sent with my details", "please cancel my {thing}, I no longer need it", "on my way to {place}!",
           "the storm knocked out power here, hope the crews stay safe", "I dropped my {product} in the bath, my own fault",
           "my dog chewed the {product} cable, can I buy a new one?", "I forgot my password again, silly me",
           "it's fine", "ok thanks", "n/a", "nothing to add"]
POLITE_REQ = ["could you send me a copy of my {thing}, please? Thanks", "would it be possible to change my {thing}? Many thanks",
              "please could you confirm my {thing}? Thank you", "could I request a late checkout? Thanks so much",
              "could you let me know when my {thing} is due? Cheers", "would you be able to resend the invoice? Thanks"]
SARCASM_OK = ["my wallet hates you but I love you 😂", "dangerously good, I can't stop ordering",
              "my only complaint is I want more", "terrible news: I'm addicted to your {product} 😅",
              "you've ruined all other {product}s for me", "thanks for keeping me up all night binge watching"]
REVIEW_C = ["The {product} stopped working after {dur}.", "Cheap materials, the {product} broke quickly.",
            "Not worth the money.", "The {product} is noisy and gets very hot.", "Colour faded after one wash.",
            "Doesn't hold a charge.", "Far too small, the photos are misleading.", "Returned it, waste of money.",
            "Looks nice but the {product} is flimsy.", "Good price, sadly it leaks.", "Two stars, the lid won't shut.",
            "Uncomfortable and the stitching came loose.", "Instructions missing and parts don't line up.",
            "Stopped connecting to my phone within {dur}."]
REVIEW_N = ["The {product} works perfectly.", "Great value and sturdy.", "Exactly as pictured.", "Really comfortable.",
            "Easy to set up.", "Comes with a spare battery.", "I use the {product} every day.", "It is 20 cm tall.",
            "Bought as a gift.", "Fits well and looks smart.", "Five stars, would buy again.", "Quiet and efficient.",
            "Arrived early, well packaged.", "Does the job."]
SURVEY_C = ["The wait was far too long.", "Nobody followed up as promised.", "Had to repeat myself to three agents.",
            "Issue still not fixed.", "Ticket closed without a solution.", "Too expensive for the service.",
            "Staff seemed uninterested.", "Only one till open and a long queue.", "The phone line never connects.",
            "Friendly staff but my problem was not solved."]
SURVEY_N = ["All good.", "Very helpful, thank you.", "Quick and easy.", "Nothing to improve.", "It was fine.",
            "Happy with the outcome.", "Friendly and professional.", "Would like more opening hours.",
            "No comment.", "Great experience overall."]

# Helpdesk e-mail style: requests and questions (with and without a bad day around them).
ASKS = ["can you tell me how to {task}?", "how do I {task}?", "is it possible to {task}?", "could you help me {task}?",
        "I'd like to {task}.", "I want to {task}, what do I need to do?", "please {task} for me.",
        "what is the best way to {task}?", "any chance you could {task}?", "I need to {task} before Friday."]
TASKS = ["change the email on my account", "set up two-step login", "add a second user", "update my card details",
         "book a service for my car", "get a quote for 50 units", "move my appointment to next week",
         "download last year's invoices", "transfer my plan to my partner", "pause my subscription for a month",
         "switch to paperless billing", "get a copy of my contract", "connect the printer to wifi", "order a spare {product}",
         "upgrade to the bigger plan", "reset my PIN", "export my data", "change my delivery address",
         "compare the two plans", "pay by bank transfer", "book a table for six", "register my warranty",
         "find the manual for the {product}", "cancel the extra seat I booked by accident"]
LIFE = ["I had a terrible week", "the traffic was awful this morning", "I hate Mondays", "my printer at home died",
        "the weather here is horrible", "I lost my job recently so money is tight", "I'm exhausted after the flight",
        "our dog chewed the cable, naughty boy", "I typed my email wrong when I signed up, my mistake",
        "I accidentally ordered two", "I'm still deciding between the plans", "still loving the {product} after a year",
        "my kids broke the old one", "I forgot my password again", "the storm knocked out our power for a day"]
SIGN = ["Thanks, Maria", "Best, Tom", "Regards, Ahmed", "Cheers", "Thank you!", "Kind regards, Li", "", ""]
EMAIL_C = ["Hi, {problem}. {Follow} {Ask}", "Hello, {problem}. {Follow}", "{Problem}. {Follow} {Ask}",
           "Hello, I need help: {problem}. {Ask}", "Hi team, {problem} and {problem2}. {Follow}"]
FOLLOWS = ["This is the second time.", "I have already sent two emails.", "Nobody has got back to me.",
           "It's really not good enough.", "Please sort it out.", "I need this fixed today.", "I am very unhappy.",
           "I've been patient but this is too much.", "I expected better.", "What is going on?",
           "Can someone actually help?", "I'd like a refund.", ""]

EMOJI_BAD = ["😡", "🤬", "😤", "🙄", "👎", "😠", ""]
EMOJI_GOOD = ["😊", "🙏", "👍", "❤️", "🎉", ""]


def _fill(rng: random.Random, template: str) -> str:
    problem = rng.choice(PROBLEMS)
    values = {
        "thing": rng.choice(THINGS), "product": rng.choice(PRODUCTS), "dur": rng.choice(DURATIONS),
        "dur2": rng.choice(["Monday", "the weekend", "yesterday", "8am"]), "place": rng.choice(PLACES),
        "fix": rng.choice(FIXES), "ref": str(rng.randint(10000, 99999)), "n": str(rng.randint(2, 9)),
        "day": rng.choice(["3 May", "the 12th", "Monday", "14 February", "last Friday"]),
        "task": rng.choice(TASKS), "problem2": rng.choice(PROBLEMS),
    }
    values["task"] = values["task"].format(**values)
    values["problem2"] = values["problem2"].format(**values)
    values["Ask"] = rng.choice(["Can you " + values["fix"] + "?", "Please " + values["fix"] + ".", ""])
    values["Follow"] = rng.choice(FOLLOWS)
    values["problem"] = problem.format(**values)
    values["Problem"] = values["problem"][:1].upper() + values["problem"][1:]
    return template.format(**values)


def _noise(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        text = text.lower()
    elif roll < 0.2:
        text = text.upper()
    if rng.random() < 0.1 and len(text) > 12:  # a typo: two letters swapped
        i = rng.randrange(1, len(text) - 2)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text


def _social(rng: random.Random, body: str, label: int) -> str:
    brand = rng.choice(BRANDS)
    end = ""
    if label:
        end = rng.choice(["", "", "!!", " ??????", "!!!", " ?", " " + rng.choice(EMOJI_BAD)])
    else:
        end = rng.choice(["", "", " " + rng.choice(EMOJI_GOOD), "!"])
    roll = rng.random()
    if roll < 0.45:
        return _noise(rng, f"{brand} {body}{end}")
    if roll < 0.6:
        return _noise(rng, f"{body} {brand}{end}")
    return _noise(rng, f"{body[:1].upper()}{body[1:]}{end}")


def generate(seed: int = 18, size: int = 4000) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []

    def add(text: str, label: int, kind: str) -> None:
        rows.append({"id": len(rows) + 1, "label": label, "kind": kind, "text": text})

    makers = [
        (0.16, 1, "problem", lambda: _social(rng, _fill(rng, "{problem}"), 1)),
        (0.06, 1, "problem+anger", lambda: _social(rng, _fill(rng, "{problem}. ") + rng.choice(ANGRY), 1)),
        (0.04, 1, "anger", lambda: _social(rng, rng.choice(ANGRY) + rng.choice([".", "!!!", " 😡", ""]), 1)),
        (0.09, 1, "polite", lambda: _social(rng, rng.choice(POLITE_OPEN) + _fill(rng, rng.choice(POLITE_WRAP)), 1)),
        (0.04, 1, "sarcasm", lambda: _social(rng, _fill(rng, rng.choice(SARCASM_COMPLAINT)), 1)),
        (0.04, 1, "letter", lambda: " ".join([rng.choice(LETTER_OPEN), _fill(rng, rng.choice(LETTER_BODY_C)),
                                                rng.choice(LETTER_CLOSE)])),
        (0.04, 1, "review", lambda: _noise(rng, _fill(rng, rng.choice(REVIEW_C)))),
        (0.03, 1, "survey", lambda: _noise(rng, rng.choice(SURVEY_C))),
        (0.11, 0, "question", lambda: _social(rng, rng.choice(["", "hi ", "Hello, "]) + _fill(rng, rng.choice(QUESTIONS)), 0)),
        (0.09, 0, "praise", lambda: _social(rng, _fill(rng, rng.choice(PRAISE)), 0)),
        (0.09, 0, "neutral", lambda: _social(rng, _fill(rng, rng.choice(NEUTRAL)), 0)),
        (0.05, 0, "polite-request", lambda: _social(rng, rng.choice(POLITE_OPEN) + _fill(rng, rng.choice(POLITE_REQ)), 0)),
        (0.03, 0, "sarcasm", lambda: _social(rng, _fill(rng, rng.choice(SARCASM_OK)), 0)),
        (0.03, 0, "letter", lambda: " ".join([rng.choice(LETTER_OPEN), _fill(rng, rng.choice(LETTER_BODY_N)),
                                                rng.choice(LETTER_CLOSE)])),
        (0.05, 0, "review", lambda: _noise(rng, _fill(rng, rng.choice(REVIEW_N)))),
        (0.05, 0, "survey", lambda: _noise(rng, rng.choice(SURVEY_N))),
    ]
    makers += [
        (0.07, 1, "email", lambda: _noise(rng, _fill(rng, rng.choice(EMAIL_C)) + " " + rng.choice(SIGN))),
        (0.10, 0, "ask", lambda: _noise(rng, rng.choice(["", "Hi, ", "Hello, ", "Good morning. "])
                                         + _fill(rng, rng.choice(ASKS)) + " " + rng.choice(SIGN))),
        (0.05, 0, "life+ask", lambda: _noise(rng, _fill(rng, rng.choice(LIFE)).capitalize()
                                              + rng.choice([". Anyway, ", ", so ", ". "]) + _fill(rng, rng.choice(ASKS)))),
    ]
    weights = [m[0] for m in makers]
    seen: set[str] = set()
    while len(rows) < size:
        _, label, kind, make = rng.choices(makers, weights=weights)[0]
        text = make()
        if text not in seen:
            seen.add(text)
            add(text, label, kind)
    return rows


def main() -> None:
    rows = generate()
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} messages -> {OUT}")


if __name__ == "__main__":
    main()
