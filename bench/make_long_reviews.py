"""Write bench/data/long_reviews.tsv: IMDB-length film reviews (~200 tokens each) that the project may ship.

    python bench/make_long_reviews.py            # rewrites the file; the same every time (fixed seed)

Every sentence below was written for this project (no review site, no dataset): titles, names and opinions are
invented. A review is an opening, a plot line, four remarks on craft, one remark that goes the other way (real
reviews are rarely one-sided), and a verdict; the label is the side most of it takes. The point is the length and
shape of real reviews, for measuring speed on long prompts without a shared few-shot prefix, not a hard test.
"""

from __future__ import annotations

import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "long_reviews.tsv"
N = 96

TITLES = [
    "The Lantern Keeper", "Salt and Iron", "Northbound", "A House on Ash Street", "The Ninth Winter",
    "Glass Harbour", "Quiet Engines", "The Cartographer's Daughter", "Ember Falls", "Under the Orchard",
    "The Last Ferry", "Paper Crowns", "Midnight at the Observatory", "Copper Sky", "The Tidewater Affair",
    "Small Hours", "Stone River", "The Pianist of Vell", "Blue Meridian", "Afterlight",
]
PLOTS = [
    "A retired lighthouse keeper returns to the island where his brother disappeared thirty years ago, and "
    "finds the village unwilling to talk about that night.",
    "Two sisters inherit a failing vineyard and have one summer to decide whether to sell it to the neighbour "
    "who has wanted the land for decades.",
    "A young engineer on a long-haul freight train across the tundra begins to suspect that the cargo is not "
    "what the manifest says.",
    "After a flood, a schoolteacher turns her classroom into a shelter and slowly becomes the reluctant leader "
    "of a town that has lost its mayor.",
    "A mapmaker is hired to survey a valley that appears on no older chart, and his letters home grow stranger "
    "with every week.",
    "A jazz pianist who lost the use of two fingers tries to put her old quartet back together for one last "
    "concert in the city that forgot them.",
    "A detective close to retirement reopens the case of a missing ferry captain when a postcard in his "
    "handwriting arrives at the harbour office.",
    "Three friends who grew up together meet again at a funeral and spend a long weekend reopening every old "
    "argument they never settled.",
    "An astronomer working alone at a remote observatory picks up a signal that repeats every night at the same "
    "minute, and nobody believes her.",
    "A family of travelling puppeteers crosses the country in a converted bus while the youngest son plans to "
    "leave them for good.",
    "A chef who has lost her sense of taste after an illness has to prepare the most important dinner of her "
    "career in three days.",
    "A boy who lives above his grandfather's clock repair shop becomes convinced that one of the clocks can "
    "show him the future.",
]
OPEN = {
    "positive": [
        "I went in expecting very little from {t}, and I came out of the cinema talking about it for the rest of "
        "the evening.",
        "{t} is the kind of film that reminds you why people still go to the cinema on a rainy weeknight.",
        "It has been a long time since a film held my attention as completely as {t} did from its first scene.",
        "Few films this year have been made with as much care and affection as {t}, and it shows in every frame.",
        "I saw {t} on the recommendation of a friend, and I owe her a very good dinner for it.",
        "{t} quietly became one of my favourite films of the decade, and I am still thinking about its ending.",
    ],
    "negative": [
        "I wanted to like {t}, I really did, but by the halfway point I was checking my watch every few minutes.",
        "{t} arrives with a great deal of confidence and very little to show for it.",
        "It is hard to remember a film that wasted as much promise as {t} does in its long two hours.",
        "{t} is a film that seems to have been assembled from the leftovers of better films.",
        "I saw {t} on the recommendation of a friend, and I will be choosing my own films from now on.",
        "There is a good film buried somewhere inside {t}, but nobody involved seems to have gone looking for it.",
    ],
}
CRAFT = {
    "positive": [
        "The lead performance is extraordinary: every silence says more than most actors manage with a page of "
        "dialogue.",
        "The supporting cast is just as strong, and even the smallest roles feel like real people with lives "
        "outside the story.",
        "The script is sharp and often very funny, and it trusts the audience to keep up without explaining "
        "everything twice.",
        "The photography is gorgeous, with long cold shots of the coast that I would happily hang on a wall.",
        "The score is sparse and lovely, a few notes on a cello that return at exactly the right moments.",
        "The pacing is patient without ever being slow, and the final act builds to something genuinely moving.",
        "The direction is confident and precise; you can feel that every scene was planned with a purpose.",
        "The dialogue sounds the way people actually talk, full of interruptions and jokes that land.",
        "The editing is tight, and the two timelines fold into each other so naturally that you never feel lost.",
        "The chemistry between the two leads is warm and believable, and their last scene together broke my "
        "heart.",
    ],
    "negative": [
        "The lead performance is flat and mannered, as if the actor had been told to look thoughtful and nothing "
        "else.",
        "The supporting cast is wasted on characters who exist only to explain the plot to each other.",
        "The script is clumsy and repetitive, and it explains every idea twice in case anyone missed it the first "
        "time.",
        "The photography is murky and dull, and several night scenes are so dark that I could not tell who was "
        "speaking.",
        "The score never stops, telling you what to feel in every scene with strings that swell on cue.",
        "The pacing is a real problem: the middle hour drifts from one scene to the next without any tension.",
        "The direction feels uncertain, as if nobody could decide whether this was a thriller or a family drama.",
        "The dialogue is stiff and full of speeches that no human being would ever say out loud.",
        "The editing is choppy, and important moments seem to have been cut while pointless ones go on forever.",
        "The two leads have no chemistry at all, which is a serious problem for a film built around their "
        "friendship.",
    ],
}
TURN = {  # the remark that goes against the review's side
    "positive": [
        "It is not perfect: a subplot about a stolen painting goes nowhere and could have been cut entirely.",
        "My only complaint is the running time, which is perhaps fifteen minutes longer than it needs to be.",
        "The opening twenty minutes are a little slow, and I can imagine some viewers giving up too early.",
        "A few of the side characters are thin, and one villain in particular is more cartoon than person.",
    ],
    "negative": [
        "To be fair, the costumes are beautiful, and one scene in a snowed-in railway station is striking.",
        "There are a couple of genuinely funny moments, mostly thanks to a scene-stealing dog.",
        "The first ten minutes are promising, with a clever opening shot that the rest of the film never matches.",
        "One supporting actor does his best with very little, and he is the only reason I stayed awake.",
    ],
}
CLOSE = {
    "positive": [
        "Go and see it on the biggest screen you can find, and take someone you like.",
        "Highly recommended; I will be watching it again as soon as I can.",
        "A small, generous, beautifully made film that deserves a much larger audience than it will probably get.",
        "Easily one of the best films I have seen this year, and I do not say that lightly.",
    ],
    "negative": [
        "Save your money and wait until it turns up on television, or better still, skip it entirely.",
        "Not recommended, unless you are in urgent need of a long and comfortable nap.",
        "A tired, muddled film that mistakes being slow for being deep.",
        "One of the most disappointing evenings I have spent in a cinema in years.",
    ],
}


def review(rng: random.Random, label: str) -> str:
    title = rng.choice(TITLES)
    parts = [rng.choice(OPEN[label]).format(t=title), rng.choice(PLOTS)]
    crafts = rng.sample(CRAFT[label], 4)
    parts += crafts[:2] + [rng.choice(TURN[label])] + crafts[2:] + [rng.choice(CLOSE[label])]
    return " ".join(parts)


def main() -> None:
    rng = random.Random(17)
    labels = ["positive", "negative"] * (N // 2)
    rng.shuffle(labels)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="\n") as f:
        f.write("text\tlabel\n")
        for label in labels:
            f.write(f"{review(rng, label)}\t{label}\n")
    print(f"wrote {N} reviews to {OUT}")


if __name__ == "__main__":
    main()
