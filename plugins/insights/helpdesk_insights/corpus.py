"""Short support messages with known themes, generated here (no outside data): the test corpus
(``tests/data/corpus.csv``), the benchmark's 100,000 tickets and the demo's feedback.

``python -m helpdesk_insights.corpus`` rewrites the test corpus (deterministic: seed 20261205). Each message is
an opener, one of the theme's sentences with its slots filled, sometimes a detail and a
closer; openers, closers and order numbers are shared by every theme, so the themes must be
told apart by what the customer says, not by boilerplate. See the plugin's DATA.md.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

SEED = 20261205
PER_THEME = 48

OPENERS = ["", "", "Hi,", "Hello,", "Hello team,", "Good morning,", "Hey,", "Dear support,"]
CLOSERS = ["", "", "Thanks.", "Please help.", "Regards, a long time customer.", "Can you look into it?",
           "This is order {order}.", "My order number is {order}.", "Thank you in advance."]

THEMES: dict[str, dict[str, list[str]]] = {
    "late delivery": {
        "s": ["My parcel is {n} days late and the tracking has not moved.",
              "The delivery was promised for {day} but nothing arrived.",
              "Where is my package? Tracking still says in transit after {n} days.",
              "Still waiting for my delivery, the courier never showed up.",
              "The shipment is late again, the tracking number shows no update since {day}.",
              "Order shipped a week ago and the parcel has not arrived yet.",
              "The courier says delivered but no parcel here, tracking is wrong."],
        "d": ["I stayed home all {day} for nothing.", "It was a birthday present.", "The courier does not answer."],
    },
    "refund not received": {
        "s": ["I returned the item {n} weeks ago and still have no refund.",
              "When will I get my money back? The return was accepted on {day}.",
              "The refund has not reached my bank account yet.",
              "You confirmed the refund but my card was never credited.",
              "I am waiting for a refund for the returned jacket.",
              "Please refund me, the return label was used {n} days ago.",
              "Refund still pending, it has been {n} weeks since you received the return."],
        "d": ["The bank says nothing came in.", "I have the return receipt.", "Money back was promised in 5 days."],
    },
    "cannot log in": {
        "s": ["I cannot log in to my account, the password reset email never arrives.",
              "Login fails with wrong password even after I reset it.",
              "The reset password link says expired every time.",
              "I am locked out of my account after too many login attempts.",
              "Two factor code is not accepted so I cannot sign in.",
              "The app logs me out and the password does not work anymore.",
              "Forgot my password and the reset link is broken."],
        "d": ["I tried on the phone and the laptop.", "I cleared cookies already.",
              "My email address has not changed."],
    },
    "damaged item": {
        "s": ["The item arrived damaged, the box was crushed.",
              "The glass was broken when I opened the parcel.",
              "My order came with a cracked screen.",
              "The product is scratched and dented, clearly damaged in shipping.",
              "Received a broken lamp, pieces everywhere in the box.",
              "The mug arrived in pieces, badly packed.",
              "The chair leg is broken and the packaging was torn."],
        "d": ["I attached photos of the damage.", "I want a replacement not a refund.", "The outer box looked fine."],
    },
    "charged twice": {
        "s": ["I was charged twice for the same order.",
              "My credit card shows a double charge of {amount}.",
              "You billed me two times this month for my subscription.",
              "There is a duplicate payment on my statement.",
              "The payment went through twice, please reverse one charge.",
              "I see two identical charges from you on {day}.",
              "Billing took the monthly fee twice from my card."],
        "d": ["My bank statement is attached.", "Only one order was placed.", "This left my account overdrawn."],
    },
    "app crashes": {
        "s": ["The app crashes every time I open the basket.",
              "Since the last update the mobile app keeps crashing on start.",
              "The iPhone app freezes and closes when I tap checkout.",
              "Your Android app crashes after the splash screen.",
              "The app closes by itself when I try to upload a photo.",
              "After updating the app it crashes immediately.",
              "App keeps freezing on the orders screen then crashes."],
        "d": ["I reinstalled it twice.", "My phone is up to date.", "It worked fine last month."],
    },
    "cancel subscription": {
        "s": ["How do I cancel my subscription? There is no button.",
              "Please cancel my membership and stop the renewal.",
              "I want to end my plan before it renews on {day}.",
              "The cancel subscription page gives an error.",
              "Stop my monthly subscription, I no longer need it.",
              "I tried to cancel the plan but it renewed anyway.",
              "Cancel my account subscription immediately please."],
        "d": ["I am moving abroad.", "It is too expensive for me now.", "I found the option hidden in settings."],
    },
    "wrong size exchange": {
        "s": ["The shoes are too small, can I exchange them for a bigger size?",
              "I ordered a medium but received a large, I need to swap the size.",
              "The dress does not fit, I want to exchange for size {size}.",
              "Wrong size delivered, please send the correct size.",
              "Can I swap these trousers for a smaller size?",
              "The jacket size runs small, exchange for one size up please.",
              "I need a size exchange, the fit is wrong."],
        "d": ["The tags are still on.", "The size chart was misleading.", "I wear {size} normally."],
    },
    "discount code": {
        "s": ["The discount code {code} is not working at checkout.",
              "My promo code says invalid although it is still valid.",
              "The voucher did not apply the discount to my order.",
              "Coupon code expired message but the email says valid until {day}.",
              "Your newsletter discount code does not work.",
              "The promotion code was rejected, the discount is missing.",
              "I forgot to enter my voucher code, can you apply the discount?"],
        "d": ["It was in your newsletter.", "The basket was above the minimum.", "A friend used it yesterday."],
    },
    "change address": {
        "s": ["I need to change the delivery address on my order.",
              "Can you update the shipping address? I moved last week.",
              "I typed the wrong street in the address, please correct it before it ships.",
              "Please send my order to my work address instead.",
              "The postcode in my address is wrong, can you change it?",
              "Change the delivery address to my new flat please.",
              "Wrong house number in the shipping address."],
        "d": ["The order has not shipped yet.", "The new address is in the same city.", "Sorry for the mistake."],
    },
    "invoice request": {
        "s": ["Please send me an invoice with our company VAT number.",
              "I need a proper invoice for my accounting department.",
              "The invoice is missing the VAT number of my company.",
              "Can you issue an invoice in the company name for order {order}?",
              "Where can I download the invoice for my purchase?",
              "Our finance team needs a VAT invoice for the last three orders.",
              "The invoice address is wrong, please reissue the invoice."],
        "d": ["Our VAT number is GB{order}.", "It is for the tax return.", "PDF is fine."],
    },
    "website slow checkout error": {
        "s": ["The website is very slow and the checkout page times out.",
              "Checkout shows an error when I click pay.",
              "The payment page keeps loading and never finishes.",
              "Your site is down, I get an error 500 at checkout.",
              "The checkout button does nothing on the website.",
              "Website extremely slow, pages take a minute to load.",
              "Error at checkout: something went wrong, please try again."],
        "d": ["I tried Chrome and Firefox.", "My card works elsewhere.", "It happened three times tonight."],
    },
}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "the weekend"]


def fill(template: str, rng: random.Random) -> str:
    amount = f"£{rng.randint(5, 99)}.{rng.randint(0, 99):02d}"
    return template.format(n=rng.randint(2, 12), day=rng.choice(DAYS), amount=amount,
                           order=f"{rng.randint(100000, 999999)}", size=rng.choice(["S", "M", "L", "XL", "38", "42"]),
                           code=rng.choice(["SAVE10", "WINTER20", "WELCOME", "FRIEND15"]))


def generate(seed: int = SEED, per_theme: int = PER_THEME) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for theme, parts in THEMES.items():
        for _ in range(per_theme):
            pieces = [rng.choice(OPENERS), fill(rng.choice(parts["s"]), rng)]
            if rng.random() < 0.5:
                pieces.append(fill(rng.choice(parts["d"]), rng))
            pieces.append(fill(rng.choice(CLOSERS), rng))
            rows.append((theme, " ".join(p for p in pieces if p)))
    rng.shuffle(rows)
    return rows


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus.csv"
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["theme", "text"])
        writer.writerows(generate())
    print(f"wrote {out}")
