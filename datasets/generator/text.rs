//! What the synthetic customers and brands say: templates per journey stage and tone,
//! brand replies, follow-ups, and the noise of real social text (emoji with skin tones
//! and ZWJ sequences, hashtags, caps, typos, `!!!`).

use rand::Rng;
use rand::seq::IndexedRandom;

/// A brand of the synthetic world.
#[derive(Debug, Clone, Copy)]
pub struct Brand {
    pub name: &'static str,
    /// The brand's own social account.
    pub handle: &'static str,
    pub industry: &'static str,
    pub products: &'static [&'static str],
    /// What the customer quotes when asking for help ("booking reference").
    pub reference: &'static str,
}

/// The brands, across industries.
pub const BRANDS: [Brand; 8] = [
    Brand {
        name: "SkyJet",
        handle: "SkyJetCares",
        industry: "airline",
        products: &[
            "flight",
            "seat upgrade",
            "checked bag",
            "app",
            "lounge pass",
            "miles",
        ],
        reference: "booking reference",
    },
    Brand {
        name: "Telvia",
        handle: "TelviaHelp",
        industry: "telecom",
        products: &["5G plan", "router", "bill", "signal", "fibre line", "SIM"],
        reference: "account number",
    },
    Brand {
        name: "ShopNest",
        handle: "ShopNestSupport",
        industry: "retail",
        products: &["order", "parcel", "jacket", "sneakers", "sofa", "gift card"],
        reference: "order number",
    },
    Brand {
        name: "Northbank",
        handle: "NorthbankCares",
        industry: "bank",
        products: &[
            "card",
            "banking app",
            "transfer",
            "mortgage",
            "savings account",
            "overdraft",
        ],
        reference: "case number",
    },
    Brand {
        name: "Dashly",
        handle: "DashlyHelp",
        industry: "food delivery",
        products: &[
            "order",
            "driver",
            "burger",
            "pizza",
            "refund",
            "subscription",
        ],
        reference: "order number",
    },
    Brand {
        name: "Voltix",
        handle: "VoltixSupport",
        industry: "electronics",
        products: &[
            "phone",
            "laptop",
            "earbuds",
            "charger",
            "smartwatch",
            "tablet",
        ],
        reference: "serial number",
    },
    Brand {
        name: "Streamly",
        handle: "StreamlyHelp",
        industry: "streaming",
        products: &[
            "subscription",
            "new season",
            "app",
            "password",
            "family plan",
            "download",
        ],
        reference: "account email",
    },
    Brand {
        name: "Staybright",
        handle: "StaybrightHotels",
        industry: "hotel",
        products: &[
            "room",
            "booking",
            "breakfast",
            "check-in",
            "spa",
            "loyalty points",
        ],
        reference: "reservation number",
    },
];

/// Journey stages (the moments of truth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Awareness,
    Consideration,
    Purchase,
    Experience,
    Service,
    Advocacy,
}

/// Tone of a customer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Positive,
    Negative,
    Neutral,
    Mixed,
}

pub const STAGES: [(Stage, u32); 6] = [
    (Stage::Awareness, 12),
    (Stage::Consideration, 14),
    (Stage::Purchase, 14),
    (Stage::Experience, 22),
    (Stage::Service, 28),
    (Stage::Advocacy, 10),
];

type Templates = &'static [&'static str];

fn templates(stage: Stage, tone: Tone) -> Templates {
    use Stage::*;
    use Tone::*;
    match (stage, tone) {
        (Awareness, Positive) => &[
            "Just saw the new {brand} ad, looks amazing {pos}",
            "Heard great things about {brand} from {friend}, anyone tried their {product}?",
            "{brand} is everywhere lately and honestly the {product} looks really good",
            "Wow, did not know {brand} did a {product}. Nice!",
            "That {brand} billboard downtown is so clever lol {pos}",
        ],
        (Awareness, Negative) => &[
            "Another {brand} ad before my video. Third one today. Stop it.",
            "Why is {brand} sponsoring everything now?? so annoying",
            "Never heard of {brand} until today and the reviews look awful {neg}",
            "{brand} ads are everywhere and none of them say what the {product} costs",
        ],
        (Awareness, Neutral) => &[
            "Is {brand} new around here? Saw a {product} promo",
            "What exactly does {brand} do? Saw their name on a bus",
            "{brand} just announced a new {product}",
            "Anyone know if {brand} operates in {city}?",
        ],
        (Consideration, Positive) => &[
            "Thinking about switching to {brand}, the {product} looks better than what I have",
            "Comparing {brand} with the others and {brand} wins on price so far",
            "Leaning towards the {brand} {product}, reviews are really positive",
            "{friend} recommended {brand}, seriously considering it now",
        ],
        (Consideration, Negative) => &[
            "Was going to pick {brand} but the {product} is way too expensive",
            "Not sure about {brand}, read too many horror stories about their {product}",
            "Is the {brand} {product} worth it or is it overpriced? Looks like a ripoff",
            "Looked at {brand} but the hidden fees put me off completely",
        ],
        (Consideration, Neutral) => &[
            "Should I get the {brand} {product} or wait for the new one?",
            "Does the {brand} {product} come with a warranty?",
            "How does {brand} compare to the competition? Need a {product} soon",
            "Any {brand} customers here? How is the {product}?",
            "What's the difference between the two {brand} {product} options?",
        ],
        (Purchase, Positive) => &[
            "Just bought the {brand} {product}! So excited {pos}",
            "Checkout with {brand} took two minutes, super smooth",
            "Finally ordered my {product} from {brand}, great deal with the discount code",
            "Booked with {brand} today, easiest purchase ever",
        ],
        (Purchase, Negative) => &[
            "Trying to buy a {product} from {brand} and the payment keeps failing {neg}",
            "{brand} charged me twice for one {product}. Great.",
            "The {brand} checkout crashed three times. I give up",
            "Price went up between adding the {product} to cart and paying. Thanks {brand}",
            "Can't complete my order, {brand} website says error 500 every time",
        ],
        (Purchase, Neutral) => &[
            "Can I pay for the {brand} {product} in installments?",
            "Does {brand} accept gift cards for the {product}?",
            "Ordered a {product} from {brand}, when will I get a confirmation?",
            "Is there a student discount at {brand}?",
        ],
        (Experience, Positive) => &[
            "Loving my new {product} from {brand} {pos}",
            "The {brand} {product} works perfectly, really impressed",
            "Been using the {brand} {product} for a week, best decision ever",
            "{brand} {product} is fast, simple and it just works. Love it!!",
            "Great {product} today with {brand}, the staff were lovely",
        ],
        (Experience, Negative) => &[
            "My {brand} {product} stopped working after two days {neg}",
            "The {brand} {product} is terrible. Slow and buggy.",
            "Worst {product} ever. {brand} you should be ashamed",
            "{brand} {product} broke again. This is the third time!!!",
            "The {product} from {brand} is not what was advertised at all",
            "{brand} {product} keeps crashing, can't even use it",
        ],
        (Experience, Neutral) => &[
            "Using the {brand} {product} for the first time today",
            "The {brand} {product} arrived, setting it up now",
            "Day 3 with the {brand} {product}. Still figuring it out",
            "Anyone else on the {brand} {product} today?",
        ],
        (Service, Positive) => &[
            "Shoutout to {brand} support, sorted my {product} issue in minutes {pos}",
            "{brand} customer service is fantastic, refund processed same day",
            "Thanks {brand} for fixing my {product} so quickly!",
            "Really helpful agent at {brand} today, problem solved",
        ],
        (Service, Negative) => &[
            "Still waiting for a reply about my {product}. {hours} hours now {neg}",
            "On hold with {brand} for {n} minutes. This is ridiculous",
            "{brand} cancelled my {product} and no refund. Unacceptable!!!",
            "Been trying to reach {brand} support for {n} days. Nobody answers",
            "Thanks for nothing {brand}. My {product} is still broken and no one helps",
            "{brand} please help, my {product} has been stuck for a week",
            "Third time contacting {brand} about my {product}. Still no fix",
            "Why is it impossible to talk to a human at {brand}???",
        ],
        (Service, Neutral) => &[
            "How do I contact {brand} about my {product}?",
            "Sent {brand} an email about my {product}, waiting to hear back",
            "Is {brand} support open on weekends?",
            "Need to change my {product} with {brand}, what's the process?",
        ],
        (Advocacy, Positive) => &[
            "Highly recommend {brand}, the {product} is worth every penny {pos}",
            "If you need a {product}, go with {brand}. Trust me",
            "5 stars for {brand}, would definitely buy again",
            "Told all my friends to switch to {brand} {pos}",
            "{friend} you have to try the {brand} {product}!",
        ],
        (Advocacy, Negative) => &[
            "Do NOT buy the {brand} {product}. Save your money",
            "Warning everyone: {brand} will not refund you. Avoid!!",
            "Never again {brand}. Telling everyone I know to stay away {neg}",
            "1 star. {brand} {product} is a scam",
            "Not recommending {brand} to anyone after this",
        ],
        (Advocacy, Neutral) => &[
            "Writing a review of the {brand} {product}, pros and cons below",
            "My honest take on {brand} after a year: it's fine",
            "Comparison thread: {brand} {product} vs the rest",
        ],
        (stage, Mixed) => {
            &MIXED[match stage {
                Awareness | Consideration => 0..2,
                Purchase => 2..4,
                Experience => 4..7,
                Service => 7..10,
                Advocacy => 10..12,
            }]
        }
    }
}

const MIXED: [&str; 12] = [
    "The {brand} ad was funny but I still have no idea what the {product} does",
    "{brand} looks nice but it's kind of expensive",
    "Easy checkout at {brand} but delivery takes forever",
    "Got the {product} from {brand}, great price but the website is a mess",
    "The {brand} {product} looks great but the battery is awful",
    "Love the {product}, hate the {brand} app",
    "{brand} {product} is good, not great. Expected more for the price",
    "{brand} support was friendly but didn't actually fix anything",
    "Refund finally came through, only took {brand} {n} days lol",
    "Nice agent, terrible policy. {brand} please fix this",
    "I like {brand} but I can't recommend the {product} right now",
    "Mostly happy with {brand}, except the {product} keeps failing",
];

/// Brand replies to a customer message, by the tone of what they answer.
pub fn brand_reply(tone: Tone) -> Templates {
    match tone {
        Tone::Negative | Tone::Mixed => &[
            "We're sorry to hear that. Please DM us your {reference} and we'll look into it right away.",
            "Hi there, that's not the experience we want for you. Could you send us a DM with your {reference}?",
            "Sorry for the trouble with your {product}! Our team is on it, please check your DMs.",
            "We apologise for the wait. Can you share your {reference} via DM so we can help?",
            "That's frustrating, we understand. Please follow and DM us, we'd like to make this right.",
        ],
        Tone::Positive => &[
            "Thanks so much for the kind words! Enjoy your {product} {pos}",
            "We love to hear this! Thanks for choosing {brand}.",
            "Thank you! We'll pass this on to the team.",
            "Awesome, glad you're happy with the {product}!",
        ],
        Tone::Neutral => &[
            "Hi! You can find all the details on our help page, or DM us your {reference} and we'll check.",
            "Great question! Yes, we do. DM us if you need more help.",
            "Thanks for reaching out! Our team is available 24/7 in the app chat.",
            "Hi there, could you tell us a bit more? Send us a DM and we'll help.",
        ],
    }
}

/// A customer's follow-up after the brand answered: resolved or not.
pub fn follow_up(resolved: bool) -> Templates {
    if resolved {
        &[
            "Thank you, that worked!",
            "Sorted now, thanks for the quick help {pos}",
            "Appreciate it, all good now",
            "Got it, thanks!",
        ]
    } else {
        &[
            "I already sent a DM {hours} hours ago. Still nothing.",
            "That's what you said last time. Still broken.",
            "DMed you. Still waiting...",
            "This is not a solution. I want a refund.",
            "Seriously? Copy paste answer again {neg}",
        ]
    }
}

/// Other customers chiming in on a thread.
pub const CHIME_IN: Templates = &[
    "Same here, exactly the same problem with my {product}",
    "Had this last month, {brand} sorted it after a few days",
    "Try restarting it, worked for me",
    "Following, I have the same issue",
    "Totally agree, {brand} used to be better",
    "Mine works fine, maybe you got a bad one?",
    "lol same {neg}",
    "This!!! {pos}",
];

const CITIES: [&str; 8] = [
    "Leeds",
    "Austin",
    "Dublin",
    "Toronto",
    "Lyon",
    "Melbourne",
    "Denver",
    "Glasgow",
];

const POS_EMOJI: [&str; 12] = [
    "😍", "🙌", "❤️", "😊", "👍", "🎉", "🔥", "💯", "🥰", "✨", "👏🏽", "😂",
];
const NEG_EMOJI: [&str; 10] = ["😡", "😤", "🙄", "👎", "😭", "💔", "🤬", "😒", "🤦‍♀️", "🤷🏻‍♂️"];
const FAMILY_EMOJI: [&str; 3] = ["👨‍👩‍👧", "👩‍💻", "🏳️‍🌈"];

const GENERIC_TAGS: [&str; 10] = [
    "fail",
    "customerservice",
    "love",
    "travel",
    "tech",
    "help",
    "nothappy",
    "blessed",
    "mondaymood",
    "review",
];

/// Everything a template can refer to.
pub struct Slots<'a> {
    pub brand: &'a Brand,
    pub product: &'a str,
    /// `@id` of another customer, for templates that mention one.
    pub friend: &'a str,
}

/// Fill `template` with `slots` and random details.
pub fn fill(template: &str, slots: &Slots<'_>, rng: &mut impl Rng) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let key = &rest[open + 1..open + close];
        match key {
            "brand" => out.push_str(slots.brand.name),
            "product" => out.push_str(slots.product),
            "reference" => out.push_str(slots.brand.reference),
            "friend" => out.push_str(slots.friend),
            "city" => out.push_str(CITIES.choose(rng).expect("cities")),
            "n" => out.push_str(&rng.random_range(2..90).to_string()),
            "hours" => out.push_str(&rng.random_range(2..72).to_string()),
            "pos" => out.push_str(POS_EMOJI.choose(rng).expect("emoji")),
            "neg" => out.push_str(NEG_EMOJI.choose(rng).expect("emoji")),
            _ => out.push_str(key),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The noise of real posts: caps, typos, repeated punctuation, emoji, hashtags.
pub fn roughen(text: &mut String, tone: Tone, brand: &Brand, rng: &mut impl Rng) {
    if rng.random_bool(0.06) {
        *text = text.to_uppercase();
    } else if rng.random_bool(0.12) {
        // SHOUT one word.
        let words: Vec<&str> = text.split(' ').collect();
        let i = rng.random_range(0..words.len());
        let shouted: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(j, w)| {
                if i == j {
                    w.to_uppercase()
                } else {
                    w.to_string()
                }
            })
            .collect();
        *text = shouted.join(" ");
    }
    if rng.random_bool(0.08) {
        // Swap two adjacent letters of one longer word.
        let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
        let i = rng.random_range(0..words.len());
        let chars: Vec<char> = words[i].chars().collect();
        if chars.len() > 4 && chars.iter().all(|c| c.is_ascii_alphabetic()) {
            let k = rng.random_range(1..chars.len() - 2);
            let mut c = chars.clone();
            c.swap(k, k + 1);
            words[i] = c.into_iter().collect();
            *text = words.join(" ");
        }
    }
    if rng.random_bool(0.08) {
        text.push_str(if rng.random_bool(0.5) { "!!!" } else { "???" });
    }
    if rng.random_bool(0.18) {
        text.push(' ');
        let pool: &[&str] = match tone {
            Tone::Positive => &POS_EMOJI,
            Tone::Negative => &NEG_EMOJI,
            _ if rng.random_bool(0.3) => &FAMILY_EMOJI,
            _ => &POS_EMOJI[..6],
        };
        text.push_str(pool.choose(rng).expect("emoji"));
        if rng.random_bool(0.2) {
            text.push_str(pool.choose(rng).expect("emoji"));
        }
    }
    if rng.random_bool(0.2) {
        text.push_str(" #");
        if rng.random_bool(0.5) {
            text.push_str(brand.name);
        } else {
            text.push_str(GENERIC_TAGS.choose(rng).expect("tags"));
        }
    }
    if rng.random_bool(0.01) {
        // Unusual whitespace, as pasted from other apps.
        *text = text.replacen(' ', "\u{00a0}", 1);
    }
}

/// Pick a tone for a customer message at `stage`.
pub fn tone_for(stage: Stage, rng: &mut impl Rng) -> Tone {
    // (positive, negative, neutral, mixed) weights per stage.
    let w: [u32; 4] = match stage {
        Stage::Awareness => [35, 20, 35, 10],
        Stage::Consideration => [25, 20, 45, 10],
        Stage::Purchase => [35, 30, 25, 10],
        Stage::Experience => [35, 35, 15, 15],
        Stage::Service => [12, 60, 18, 10],
        Stage::Advocacy => [50, 35, 5, 10],
    };
    let tones = [Tone::Positive, Tone::Negative, Tone::Neutral, Tone::Mixed];
    let total: u32 = w.iter().sum();
    let mut x = rng.random_range(0..total);
    for (t, wt) in tones.iter().zip(w) {
        if x < wt {
            return *t;
        }
        x -= wt;
    }
    Tone::Neutral
}

/// The template list for a customer's first message.
pub fn customer_post(stage: Stage, tone: Tone) -> Templates {
    templates(stage, tone)
}
