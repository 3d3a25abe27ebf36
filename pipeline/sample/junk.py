"""The text of web junk, low-quality commercial pages and non-English pages, from small hand-written
banks filled in by a seeded random generator (`random.Random`, the same on every platform).

Each maker returns `(title, blocks)`; a block is ("p", text), ("h2", text), ("ul", [items]) or
("links", [(href, label)]), rendered to HTML by pages.py.
"""
from __future__ import annotations

import random

PRODUCTS = ["running shoes", "wireless earbuds", "garden hoses", "office chairs", "phone cases",
            "coffee makers", "robot vacuums", "car insurance", "payday loans", "diet pills",
            "web hosting", "casino bonuses", "gaming laptops", "mattresses", "hair extensions",
            "protein powder", "solar panels", "dental implants", "moving services", "used cars"]
CITIES = ["Springfield", "Riverton", "Lakewood", "Fairview", "Georgetown", "Franklin", "Clinton",
          "Greenville", "Bristol", "Salem", "Madison", "Ashland"]
ADJECTIVES = ["cheap", "affordable", "premium", "discount", "top rated", "best selling", "luxury",
              "certified", "genuine", "brand new"]

SEO_SENTENCES = [
    "Looking for the best {p} in {city}? You have come to the right place!",
    "Our {p} are the cheapest you will find anywhere online.",
    "Order today and get free shipping on all {p} orders over ${n}.",
    "Click here to compare prices and save up to {pct}% on {adj} {p}.",
    "Thousands of happy customers trust us with all their {p} needs.",
    "Do not miss our limited time offer on {adj} {p}!",
    "We have the largest selection of {p} at unbeatable prices.",
    "Call now to speak with a {p} expert who will answer all your questions.",
    "Why pay more for {p} when you can get the same quality for less?",
    "Sign up for our newsletter and receive exclusive {p} deals every week.",
    "Our team is dedicated to providing the best {p} service in {city} and the surrounding area.",
    "Check out our huge range of {adj} {p} and find the perfect one for you today.",
    "Get your {p} delivered to your door in as little as {h} hours.",
    "Whether you need {p} for home or for work, we have got you covered.",
    "Best {p} of {year}: our top {k} picks, reviewed and rated by real buyers.",
    "Buy {adj} {p} online with confidence, satisfaction is guaranteed or your money back.",
    "Hurry, this {p} sale ends soon and stock is running out fast!",
    "Find great deals on {p} near {city} and save big on your next purchase.",
    "Our {adj} {p} come with a {k} year warranty and friendly customer support.",
    "Read our honest {p} reviews before you buy, it only takes a minute.",
    "Use the coupon code SAVE{pct} at checkout to get an extra discount on {p}.",
    "Looking for {adj} {p}? Look no further, we have the lowest prices guaranteed.",
    "Shop the latest {p} trends and get the look you have always wanted.",
    "Every order of {p} ships the same day if you order before noon.",
]
CLICKBAIT_SENTENCES = [
    "You will not believe what happened next!",
    "Number {k} will totally shock you.",
    "Doctors hate this one simple trick for {p}.",
    "This is the secret that the {p} industry does not want you to know.",
    "Scroll down to see the amazing before and after pictures.",
    "Share this with your friends before it gets deleted!",
    "We tried it for {k} days and the results were incredible.",
    "Everyone is talking about it, so here is what you need to know.",
    "It sounds crazy, but it really works, and it only takes {k} minutes a day.",
    "The internet cannot stop talking about this {adj} discovery.",
    "Find out which one is right for you in our quick quiz.",
    "Keep reading, because the best tip is at the very end.",
]
COMMENT_LINES = [
    "lol same here", "this!!!", "first", "great post thanks for sharing", "who else is here in {year}",
    "does anyone know where to buy {p} in {city}", "nice one", "+1", "i had the same problem with my {p}",
    "did u try turning it off and on again", "omg", "following", "bump", "thanks man you saved my day",
    "check my profile for cheap {p}", "not working for me", "wow", "lmao", "this is fake",
]
NAV_ITEMS = ["Home", "About Us", "Contact", "Blog", "Shop", "Services", "Careers", "FAQ", "Support",
             "Login", "Register", "Cart", "Wishlist", "Sitemap", "News", "Events", "Gallery",
             "Electronics", "Home & Garden", "Sports & Outdoors", "Toys & Games", "Fashion", "Beauty",
             "Health", "Automotive", "Books", "Music", "Movies", "Deals", "Gift Cards", "New Arrivals",
             "Best Sellers", "Clearance", "Brands", "Store Locator", "Track Order", "Returns"]
BOILERPLATE_LINES = [
    "Copyright © {year} {site}. All rights reserved.",
    "Privacy Policy | Terms of Use | Cookie Policy",
    "Follow us on Facebook, Twitter and Instagram",
    "Subscribe to our newsletter",
    "Powered by WordPress",
    "Back to top",
    "Skip to main content",
    "Share this page",
    "Leave a comment",
    "Posted in Uncategorized",
    "Tags: news, updates, misc",
    "Page 1 of 12",
    "Previous post / Next post",
    "Search this site",
    "Loading...",
]
COOKIE_LINES = [
    "This website uses cookies to improve your experience.",
    "We'll assume you're ok with this, but you can opt-out if you wish.",
    "We and our partners use cookies to personalise content and ads and to analyse our traffic.",
    "By clicking Accept all you agree to the storing of cookies on your device.",
    "Accept all", "Reject all", "Manage preferences", "Read more",
    "Please enable JavaScript to view this website.",
    "JavaScript is disabled in your browser.",
    "Your privacy choices",
]
KEYWORDS = ["cheap flights", "cheap hotels", "best deals", "online casino", "free spins", "loans online",
            "buy now", "discount code", "cheap tickets", "weight loss", "make money fast", "free download",
            "best price", "hot offers", "crypto profit"]

# Short hand-written sentences for non-English pages (everyday topics, plain register).
FOREIGN = {
    "de": [
        "Die Stadtbibliothek bleibt am kommenden Montag wegen Renovierungsarbeiten geschlossen.",
        "Im Sommer fahren viele Familien mit dem Fahrrad an den nahen See.",
        "Der Gemeinderat hat am Dienstag über den neuen Spielplatz im Stadtpark beraten.",
        "Nach dem langen Winter freuen sich die Bauern endlich auf wärmeres Wetter.",
        "Das Museum zeigt in diesem Jahr eine Ausstellung über die Geschichte der Eisenbahn.",
        "Viele Menschen kaufen ihr Gemüse inzwischen lieber auf dem Wochenmarkt.",
        "Die neue Brücke soll den Verkehr in der Innenstadt deutlich entlasten.",
        "Am Wochenende findet wieder das traditionelle Weinfest auf dem Marktplatz statt.",
        "Die Schülerinnen und Schüler haben ein eigenes Theaterstück geschrieben und aufgeführt.",
        "Wer früh aufsteht, kann im Herbst oft dichten Nebel über den Wiesen sehen.",
        "Der Verein sucht noch freiwillige Helfer für das große Sommerfest.",
        "In der alten Mühle am Fluss wird heute wieder Brot gebacken.",
        "Die Preise für Heizöl sind im vergangenen Monat erneut gestiegen.",
        "Unsere Großmutter erzählt gern Geschichten aus ihrer Kindheit auf dem Land.",
    ],
    "fr": [
        "La bibliothèque municipale sera fermée lundi prochain pour des travaux de rénovation.",
        "En été, de nombreuses familles partent à vélo vers le lac voisin.",
        "Le conseil municipal a discuté mardi du nouveau terrain de jeux du parc.",
        "Après un long hiver, les agriculteurs attendent enfin un temps plus doux.",
        "Le musée présente cette année une exposition sur l'histoire du chemin de fer.",
        "Beaucoup de gens préfèrent désormais acheter leurs légumes au marché du samedi.",
        "Le nouveau pont devrait réduire nettement la circulation dans le centre-ville.",
        "La traditionnelle fête du vin aura lieu ce week-end sur la place du marché.",
        "Les élèves ont écrit et joué leur propre pièce de théâtre à la fin de l'année.",
        "Ceux qui se lèvent tôt voient souvent un épais brouillard au-dessus des prés en automne.",
        "L'association cherche encore des bénévoles pour la grande fête de l'été.",
        "Dans le vieux moulin au bord de la rivière, on fait de nouveau du pain.",
        "Le prix du fioul a encore augmenté au cours du mois dernier.",
        "Notre grand-mère aime raconter des histoires de son enfance à la campagne.",
    ],
    "es": [
        "La biblioteca municipal permanecerá cerrada el próximo lunes por obras de renovación.",
        "En verano, muchas familias van en bicicleta hasta el lago cercano.",
        "El ayuntamiento debatió el martes sobre el nuevo parque infantil.",
        "Después de un invierno largo, los agricultores esperan por fin un tiempo más cálido.",
        "El museo presenta este año una exposición sobre la historia del ferrocarril.",
        "Muchas personas prefieren ahora comprar sus verduras en el mercado semanal.",
        "El nuevo puente debería aliviar mucho el tráfico del centro de la ciudad.",
        "Este fin de semana se celebra otra vez la tradicional fiesta del vino en la plaza.",
        "Los alumnos escribieron y representaron su propia obra de teatro.",
        "Quien se levanta temprano suele ver en otoño una niebla espesa sobre los prados.",
        "La asociación todavía busca voluntarios para la gran fiesta de verano.",
        "En el viejo molino junto al río se vuelve a hacer pan.",
        "El precio del gasóleo para calefacción volvió a subir el mes pasado.",
        "A nuestra abuela le gusta contar historias de su infancia en el campo.",
    ],
    "it": [
        "La biblioteca comunale resterà chiusa lunedì prossimo per lavori di ristrutturazione.",
        "D'estate molte famiglie vanno in bicicletta fino al lago vicino.",
        "Martedì il consiglio comunale ha discusso del nuovo parco giochi.",
        "Dopo un lungo inverno, gli agricoltori aspettano finalmente un clima più mite.",
        "Quest'anno il museo presenta una mostra sulla storia della ferrovia.",
        "Molte persone ora preferiscono comprare la verdura al mercato settimanale.",
        "Il nuovo ponte dovrebbe alleggerire molto il traffico del centro.",
        "Questo fine settimana torna la tradizionale festa del vino in piazza.",
        "Gli studenti hanno scritto e recitato una loro commedia.",
        "Chi si alza presto in autunno vede spesso una fitta nebbia sui prati.",
        "L'associazione cerca ancora volontari per la grande festa d'estate.",
        "Nel vecchio mulino sul fiume si torna a fare il pane.",
        "Il prezzo del gasolio da riscaldamento è salito di nuovo il mese scorso.",
        "Nostra nonna ama raccontare storie della sua infanzia in campagna.",
    ],
    "nl": [
        "De openbare bibliotheek is volgende maandag gesloten vanwege een verbouwing.",
        "In de zomer fietsen veel gezinnen naar het meer in de buurt.",
        "De gemeenteraad sprak dinsdag over de nieuwe speeltuin in het park.",
        "Na een lange winter kijken de boeren eindelijk uit naar warmer weer.",
        "Het museum toont dit jaar een tentoonstelling over de geschiedenis van de spoorwegen.",
        "Veel mensen kopen hun groente tegenwoordig liever op de weekmarkt.",
        "De nieuwe brug moet het verkeer in het centrum flink ontlasten.",
        "Dit weekend is er weer het traditionele wijnfeest op het marktplein.",
        "De leerlingen hebben zelf een toneelstuk geschreven en opgevoerd.",
        "Wie vroeg opstaat, ziet in de herfst vaak dichte mist boven de weilanden.",
        "De vereniging zoekt nog vrijwilligers voor het grote zomerfeest.",
        "In de oude molen aan de rivier wordt weer brood gebakken.",
        "De prijs van stookolie is vorige maand opnieuw gestegen.",
        "Onze oma vertelt graag verhalen over haar jeugd op het platteland.",
    ],
    "pt": [
        "A biblioteca municipal ficará fechada na próxima segunda-feira para obras de renovação.",
        "No verão, muitas famílias vão de bicicleta até o lago próximo.",
        "A câmara municipal discutiu na terça-feira o novo parque infantil.",
        "Depois de um inverno longo, os agricultores esperam finalmente um tempo mais quente.",
        "Este ano o museu apresenta uma exposição sobre a história dos caminhos de ferro.",
        "Muitas pessoas preferem agora comprar os legumes na feira semanal.",
        "A nova ponte deve aliviar bastante o trânsito no centro da cidade.",
        "Neste fim de semana volta a realizar-se a tradicional festa do vinho na praça.",
        "Os alunos escreveram e representaram a sua própria peça de teatro.",
        "Quem se levanta cedo vê muitas vezes no outono um nevoeiro espesso sobre os campos.",
        "A associação ainda procura voluntários para a grande festa de verão.",
        "No velho moinho junto ao rio volta a fazer-se pão.",
        "O preço do gasóleo de aquecimento voltou a subir no mês passado.",
        "A nossa avó gosta de contar histórias da sua infância no campo.",
    ],
}
FOREIGN_TITLES = {"de": "Nachrichten aus der Region", "fr": "Nouvelles de la région",
                  "es": "Noticias de la región", "it": "Notizie dalla regione",
                  "nl": "Nieuws uit de regio", "pt": "Notícias da região"}


def _fill(template: str, rng: random.Random, product: str) -> str:
    return template.format(p=product, city=rng.choice(CITIES), adj=rng.choice(ADJECTIVES),
                           n=rng.choice([25, 35, 49, 50, 99]), pct=rng.choice([10, 15, 20, 30, 50, 70]),
                           h=rng.choice([24, 48, 72]), k=rng.randint(3, 12), year=rng.choice([2016, 2017]),
                           site="the site")


def seo_spam(rng: random.Random) -> tuple[str, list]:
    """Commercial filler that passes the heuristic rules: the classifier's job to drop."""
    product = rng.choice(PRODUCTS)
    sentences = rng.sample(SEO_SENTENCES, rng.randint(12, 18))
    paragraphs, i = [], 0
    while i < len(sentences):
        size = rng.randint(3, 5)
        paragraphs.append(("p", " ".join(_fill(s, rng, product) for s in sentences[i:i + size])))
        i += size
    title = f"{rng.choice(ADJECTIVES).title()} {product.title()} - Best Prices {rng.choice([2016, 2017])}"
    return title, [("h2", f"Why choose our {product}?")] + paragraphs


def clickbait(rng: random.Random) -> tuple[str, list]:
    product = rng.choice(PRODUCTS)
    sentences = [_fill(s, rng, product) for s in rng.sample(CLICKBAIT_SENTENCES, 8)]
    sentences += [_fill(s, rng, product) for s in rng.sample(SEO_SENTENCES, 6)]
    rng.shuffle(sentences)
    title = f"{rng.randint(5, 15)} {product.title()} Secrets You Need To Know"
    return title, [("p", " ".join(sentences[i:i + 4])) for i in range(0, len(sentences), 4)]


def comments(rng: random.Random) -> tuple[str, list]:
    product = rng.choice(PRODUCTS)
    lines = [_fill(s, rng, product) for s in rng.choices(COMMENT_LINES, k=rng.randint(12, 20))]
    return f"Re: {product} question", [("ul", lines)]


def link_farm(rng: random.Random, hosts: list[str]) -> tuple[str, list]:
    links = []
    for _ in range(rng.randint(40, 70)):
        words = f"{rng.choice(ADJECTIVES)} {rng.choice(PRODUCTS)}"
        slug = words.replace(" ", "-")
        links.append((f"http://{rng.choice(hosts)}/{slug}-{rng.randint(1, 999)}.html", words))
    return "Top Sites Directory - Best Links", [("links", links)]


def keyword_spam(rng: random.Random) -> tuple[str, list]:
    blocks = []
    for _ in range(rng.randint(3, 6)):
        blocks.append(("p", " ".join(rng.choices(KEYWORDS, k=rng.randint(25, 45)))))
    return " ".join(rng.sample(KEYWORDS, 4)).title(), blocks


def boilerplate(rng: random.Random, site: str) -> tuple[str, list]:
    lines = [s.format(year=rng.choice([2016, 2017]), site=site)
             for s in rng.sample(BOILERPLATE_LINES, rng.randint(6, 10))]
    return site, [("ul", lines)]


def cookie_wall(rng: random.Random) -> tuple[str, list]:
    return "Before you continue", [("p", " ".join(rng.sample(COOKIE_LINES[:4], 3))),
                                   ("ul", rng.sample(COOKIE_LINES[4:], 5))]


def nav_list(rng: random.Random) -> tuple[str, list]:
    return "Categories", [("ul", rng.sample(NAV_ITEMS, rng.randint(18, 30))),
                          ("ul", rng.sample(NAV_ITEMS, rng.randint(10, 18)))]


def foreign(rng: random.Random, lang: str) -> tuple[str, list]:
    sentences = rng.sample(FOREIGN[lang], rng.randint(9, 12))
    return FOREIGN_TITLES[lang], [("p", " ".join(sentences[i:i + 3])) for i in range(0, len(sentences), 3)]
