"""Behavioural parameters: how people respond. These, and only these, are what calibration fits.

They are apart from the strategy levers (:mod:`sim.parameters`): a strategy says *what the
organisation does* (friction, purpose, leaders walking the talk, openness); a behavioural
parameter says *how employees and customers react to it* (how much a purpose motivates, how fast
people lapse, how strongly reputation feeds posting). Each has a default, a documented range and
``why``: the reasoning behind the default. The defaults are the developers' choices, informed by
the pattern-oriented first pass of docs/MODEL.md, section 9. Calibration (sim/calibration)
fits 14 of them (and one parameter of the surveyed population) to published figures; runs use
the defaults unless ``calibrated=True`` draws them from the posterior.

Every number that used to be a hard-coded constant of the rules (``ANSWER_TRUST_GAIN``,
``CONNECTIVE_TIES`` and the rest) is a parameter here, so sensitivity analysis and calibration
can reach it.

Sources per mechanism: docs/MODEL.md section 5.3; Wang, Meister & Gray (2013, MIS Quarterly
37(1)) and Chelmis & Prasanna (2013) for the hierarchy hypotheses; Fisher, Kim & Cummings
(2018) for lapsing as contacts leave; Nielsen (2006) and van Mierlo (2014) for participation
inequality.
"""

from __future__ import annotations

from typing import Any, Literal

from .parameters import _Keys, lever

#: The three hypotheses of how influence runs through the reporting hierarchy (model v2 item 2).
HIERARCHY_HYPOTHESES = ("top_down", "bottom_up", "middle_out")


def _b(default: Any, *, why: str, **kw: Any) -> Any:
    return lever(default, group="behaviour", why=why, **kw)


class BehaviourParameters(_Keys):
    """How employees and customers respond (what calibration fits)."""

    # --- the participation decision (mechanisms 1-6) -----------------------------------------
    threshold_mean: float = _b(
        0.8, ge=0.0, le=3.0, mechanism="0 participation rule", source="brief (Centola)",
        doc="mean personal effort of contributing (the bar net motivation must clear)",
        why="a bar above what any single pull gives, so taking part needs several reasons at once")
    threshold_sd: float = _b(
        0.35, ge=0.0, le=2.0, mechanism="0 participation rule", source="brief (Centola)",
        doc="spread of the personal bars: innovators, majorities and laggards",
        why="wide enough that a few percent start on their own and a majority needs social proof")
    threshold_cap: float = _b(
        3.0, ge=0.1, le=10.0, mechanism="0 participation rule", source="brief (Centola)",
        doc="personal bars are clipped to [0, threshold_cap]",
        why="a bar of 3 is beyond every pull combined: such people never contribute; a cap keeps "
            "the normal distribution's tail finite")
    department_effort_spread: float = _b(
        0.0, ge=0.0, le=2.0, mechanism="0 participation rule", source="brief (Dachis; Gartner)",
        doc="how much the effort of taking part differs between the departments of one organisation: the "
            "standard deviation of the log of each department's multiplier of the personal bars (log-normal, "
            "median 1; 0 = every department alike)",
        why="0 by default, the model before calibration; the survey's record asks for communities that form in "
            "some departments and not in others (Dachis: most firms at 10-20% active; Gartner: a tenth of "
            "tool-led efforts succeed), and how different departments' work is, is not observed, so it is fitted")
    decision_noise: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="0 participation rule", source="brief",
        doc="scale of the logistic choice: 0 is a strict threshold rule, larger means more idiosyncratic choices",
        why="random-utility choice: a person a little below their bar still sometimes tries, so no "
            "cost switches every other lever off; 0.1 is a tenth of the typical bar")
    peer_weight: float = _b(
        0.5, ge=0.0, le=3.0, mechanism="5 peer influence", source="brief (Centola)",
        doc="pull of the share of one's contacts who are visibly active",
        why="all contacts active covers more than half of the mean bar: peers alone tip only the eager")
    spontaneous_adoption: float = _b(
        0.001, ge=0.0, le=1.0, mechanism="5 peer influence", source="Bass p",
        doc="weekly chance someone starts contributing on their own (Bass p)",
        why="about 5% of staff try once in a year without any social signal; with more, most staff would have posted at some point, far above van Mierlo's 'under 25% ever posted'")
    imitation: float = _b(
        0.0, ge=0.0, le=1.0, mechanism="5 peer influence", source="Bass q",
        doc="weekly chance per unit of exposure of trying because contacts do (Bass q)",
        why="off by default: imitation acts through the threshold rule; the Bass reduction uses it")
    launch_novelty: float = _b(
        0.3, ge=0.0, le=3.0, mechanism="12 dynamics", source="001",
        doc="extra pull of a platform that is new to a person (the launch buzz; decays)",
        why="the launch buzz: a new tool is interesting for a few weeks, then must earn its keep")
    novelty_half_life: float = _b(
        8.0, ge=0.1, le=1000.0, mechanism="12 dynamics", source="001",
        doc="weeks for the novelty of the platform to halve (per person, from their first access)",
        why="two months: the length of a typical launch campaign")
    reading_uptake: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="0 participation rule", source="brief (SWOOP)",
        doc="weekly chance a non-user with access for whom reading is worth it starts reading",
        why="most staff look at a new platform within a few months while it is novel or useful")
    reading_lapse: float = _b(
        0.02, ge=0.0, le=1.0, mechanism="0 participation rule", source="brief (SWOOP)",
        doc="weekly chance a reader for whom reading is no longer worth it stops looking",
        why="readers drift away slowly from a platform with nothing to read")
    reading_effort: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="0 participation rule", source="brief (SWOOP)",
        doc="share of one's personal effort of contributing that reading costs",
        why="reading is easier than writing, but not free: for some staff even looking is not worth it")
    lapse_rate: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="12 dynamics", source="Fisher, Kim & Cummings 2018",
        doc="weekly chance that a contributor whose motivation fell below their bar stops",
        why="a habit takes weeks to break: about ten weeks below the bar on average")
    lapse_margin: float = _b(
        0.1, ge=0.0, le=3.0, mechanism="12 dynamics", source="Fisher, Kim & Cummings 2018",
        doc="how far below the bar net motivation must fall before a contributor may lapse",
        why="people keep doing what they already do a little past the point they would start it")
    relapse_penalty: float = _b(
        0.1, ge=0.0, le=3.0, mechanism="12 dynamics", source="brief",
        doc="extra bar for a lapsed contributor to come back",
        why="burnt once: coming back costs a little more than starting")
    habit_weight: float = _b(
        0.3, ge=0.0, le=1.0, mechanism="12 dynamics", source="brief",
        doc="share of the personal effort a fully formed habit removes (learning the tool)",
        why="people who post every week find it about a third easier than the first time")
    habit_gain: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="12 dynamics", source="brief",
        doc="weekly growth of the habit in a week one posts (share of the way to a full habit)",
        why="a habit forms over a few months of regular posting")
    habit_decay: float = _b(
        0.05, ge=0.0, le=1.0, mechanism="12 dynamics", source="brief",
        doc="weekly loss of the habit in a week one does not post",
        why="habits fade more slowly than they form")
    fear_weight: float = _b(
        0.4, ge=0.0, le=3.0, mechanism="6 culture", source="002",
        doc="cost of lost psychological safety (1 - safety) in the decision to contribute",
        why="showing vulnerability in public is a real cost where safety is low (002)")
    friction_weight: float = _b(
        1.0, ge=0.0, le=3.0, mechanism="1 anyone can participate", source="001",
        doc="how much posting friction multiplies personal effort: effort x (1 + friction_weight x posting_friction)",
        why="a full firewall doubles the time a post takes; the eager, for whom posting costs little, still post")
    friction_slowdown: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="1 anyone can participate", source="001",
        doc="share by which full posting friction slows the posting rate of those who post",
        why="approval steps halve what a determined contributor can post")

    # --- posting, attention and reputation (mechanism 2: the virtuous participation cycle) ---
    contribution_rate: float = _b(
        0.3, ge=0.0, le=100.0, mechanism="2 network effect", source="000",
        doc="posts per week of a contributor of typical propensity with no reputation",
        why="an occasional contributor posts about once a month; the busy few post far more through reputation (the first pattern-oriented pass, docs/MODEL.md section 9, puts van Mierlo's concentration here)")
    propensity_spread: float = _b(
        1.4, ge=0.0, le=3.0, mechanism="2 network effect", source="Nielsen 2006",
        doc="standard deviation of the log of personal posting propensity (mean propensity 1)",
        why="people differ in how much they write even before reputation: a lognormal spread wide enough, with the reputation cycle, for a few to write most of the content (van Mierlo 2014)")
    writer_share: float = _b(
        1.0, ge=0.0, le=1.0, mechanism="2 network effect", source="van Mierlo 2014; Nonnecke & Preece 2000",
        doc="share of staff who would ever write (the rest may read and react but never post; formal leaders always can)",
        why="1 (everyone could write) keeps the model as it was before the sixth change of structure; lurkers by disposition, who never mean to post, are most of an online community (van Mierlo: under 25% ever posted), so calibration may lower it (docs/MODEL.md 5.3.2)")
    posting_budget: float = _b(
        20.0, ge=1.0, le=500.0, mechanism="2 network effect", source="000",
        doc="most posts a week one person has time for (the time and attention budget)",
        why="about four a working day: the busiest real super-users")
    reputation_feedback: float = _b(
        1.5, ge=0.0, le=2.0, mechanism="2 network effect", source="000",
        doc="virtuous participation cycle: posting rate and visibility grow as (1 + reputation / recognition_saturation) to this power",
        why="recognition raises both the wish to post and the audience a post gets (000); above 1 the attention of readers concentrates on a few (the first pattern-oriented pass puts van Mierlo's concentration here)")
    reputation_decay: float = _b(
        0.05, ge=0.005, le=1.0, mechanism="2 network effect", source="000",
        doc="weekly share of the way reputation moves towards this week's attention (its smoothing)",
        why="reputation reflects the attention of the last few months")
    recognition_weight: float = _b(
        0.3, ge=0.0, le=3.0, mechanism="2 network effect", source="000",
        doc="pull of one's own recognition (reputation) on the decision to keep contributing",
        why="being read and liked is a reason to go on; with no audience contributors lapse")
    recognition_saturation: float = _b(
        20.0, ge=0.1, le=10_000.0, mechanism="2 network effect", source="000",
        doc="reputation (attention received, weekly views) at which recognition gives half its pull",
        why="twenty readers a week make a post feel worth writing")
    reaction_ease: float = _b(
        0.3, ge=0.0, le=3.0, mechanism="2 network effect", source="brief (Jive)",
        doc="how much easier a like or comment is than a post (added to net motivation)",
        why="reacting costs a fraction of writing, so participants outnumber contributors")
    reaction_weight: float = _b(
        3.0, ge=0.0, le=100.0, mechanism="2 network effect", source="000",
        doc="attention a reaction gives, in views",
        why="a like or a comment is noticed more than a silent view")
    visibility_window: int = _b(
        4, ge=1, le=52, mechanism="5 peer influence", source="brief (Jive)",
        doc="weeks a person counts as visibly active after a post (what colleagues see)",
        why="a month: the window of Jive's activity reports")

    # --- the platform's value (mechanism 2) ---------------------------------------------------
    network_value_weight: float = _b(
        0.3, ge=0.0, le=3.0, mechanism="2 network effect", source="000",
        doc="pull of the platform's value (active contacts, reusable knowledge)",
        why="a useful platform is a reason to contribute, but not enough on its own")
    value_saturation: float = _b(
        5.0, ge=0.1, le=1000.0, mechanism="2 network effect", source="000",
        doc="active contacts (or knowledge items per head) at which value is 63% of its maximum",
        why="five active contacts make a network feel alive")
    value_people_share: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="2 network effect", source="000",
        doc="share of the platform's value that comes from active contacts (rest: reusable knowledge)",
        why="people and content count the same in the absence of data")
    knowledge_decay: float = _b(
        0.02, ge=0.0, le=1.0, mechanism="2 network effect", source="000",
        doc="weekly share of the knowledge stock that goes stale",
        why="about a year's half-life for workplace knowledge")
    weak_tie_rate: float = _b(
        0.05, ge=0.0, le=1.0, mechanism="2 network effect", source="002",
        doc="weekly chance an open contributor finds and ties to someone in another department",
        why="a regular open contributor makes a new cross-silo contact every few months")
    max_weak_ties: int = _b(
        8, ge=0, le=64, mechanism="2 network effect", source="002",
        doc="most new cross-silo ties one employee can grow",
        why="the number of working relationships one can keep up is limited")

    # --- purpose (mechanism 3) ----------------------------------------------------------------
    purpose_weight: float = _b(
        0.5, ge=0.0, le=3.0, mechanism="3 purpose", source="001",
        doc="pull of alignment with the purpose",
        why="a compelling purpose understood is worth more than half the mean bar (001)")
    purpose_cascade_rate: float = _b(
        0.2, ge=0.0, le=1.0, mechanism="3 purpose", source="004",
        doc="weekly speed at which clarity passes from a manager to their reports",
        why="a message takes about five weeks to settle at each level")
    purpose_transmission: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="3 purpose", source="004",
        doc="share of the purpose's clarity an uncommitted manager passes on (committed ones pass all)",
        why="without commitment half of the message is lost at each level")
    receptiveness_min: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="3 purpose", source="001",
        doc="receptiveness to the purpose is uniform between this and 1",
        why="most people take in at least half of a clear purpose")

    # --- leaders (mechanism 4) ----------------------------------------------------------------
    hierarchy_influence: Literal["top_down", "bottom_up", "middle_out"] = _b(
        "top_down", mechanism="4 leaders as role models", source="004; Wang et al. 2013; Chelmis & Prasanna 2013",
        doc="how influence runs through the hierarchy: top_down (managers and the executive team as role "
            "models), bottom_up (managers follow their reports), middle_out (middle managers lead up and down)",
        why="top_down is the seed articles' claim (004); the data (Wang et al. 2013) favour bottom_up; "
            "calibration chooses")
    role_model_weight: float = _b(
        0.3, ge=0.0, le=3.0, mechanism="4 leaders as role models", source="004",
        doc="pull of the hierarchy signal (what one sees one's leaders, or one's reports, do)",
        why="a visible manager is worth somewhat less than a whole team of active peers")
    boardroom_weight: float = _b(
        0.3, ge=0.0, le=1.0, mechanism="4 leaders as role models", source="001",
        doc="top_down: share of the leader signal that comes from the executive team (rest: own manager)",
        why="one's own manager is seen more often than the boardroom")
    informal_leader_weight: float = _b(
        2.0, ge=0.0, le=50.0, mechanism="4 leaders as role models", source="004",
        doc="extra weight of an informal leader's example among their contacts",
        why="a respected colleague counts for three ordinary ones")
    leader_role_pull: float = _b(
        0.4, ge=0.0, le=3.0, mechanism="4 leaders as role models", source="004",
        doc="pull on a formal leader of being asked to walk the talk (times leader_participation)",
        why="being asked and helped to take part is a strong reason, but leaders still face friction and fear")

    # --- culture (mechanism 6) ----------------------------------------------------------------
    mistake_rate: float = _b(
        0.01, ge=0.0, le=1.0, mechanism="6 culture", source="002",
        doc="chance that one post goes wrong in public",
        why="one post in a hundred embarrasses its author")
    fear_contagion: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="6 culture", source="002",
        doc="how much seeing a colleague's mistake counts compared with one's own",
        why="seeing a colleague blamed is half as frightening as being blamed")
    blame_impact: float = _b(
        1.0, ge=0.0, le=1.0, mechanism="6 culture", source="002",
        doc="share of safety a blamed mistake of one's own destroys",
        why="being blamed in public wipes out one's sense of safety where blame rules")
    candour_repair: float = _b(
        0.2, ge=0.0, le=1.0, mechanism="6 culture", source="002",
        doc="share of the way to full safety that seeing a mistake admitted openly (and not blamed) closes",
        why="seeing a mistake admitted and respected rebuilds safety (002), more slowly than blame destroys it")
    safety_recovery: float = _b(
        0.01, ge=0.0, le=1.0, mechanism="6 culture", source="002",
        doc="weekly drift of safety back towards initial_safety when nothing happens",
        why="memories of blame fade over about two years")
    crisis_fear: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="11 shocks", source="003",
        doc="share of safety a public crisis of severity 1 destroys each week where every mistake is blamed",
        why="an attack on the company page makes staff afraid to speak where blame rules")
    crisis_rally: float = _b(
        0.3, ge=0.0, le=3.0, mechanism="11 shocks", source="003, 002",
        doc="pull of a public crisis of severity 1 where people act human (no blame, full candour)",
        why="a crisis handled openly brings people together to answer it")
    crisis_decay: float = _b(
        0.2, ge=0.0, le=1.0, mechanism="11 shocks", source="003",
        doc="weekly decay of a crisis's pressure",
        why="a crisis dominates for about a month")
    mistake_trust_step: float = _b(
        0.001, ge=0.0, le=0.1, mechanism="6 culture", source="002",
        doc="customers' trust moved per log-unit of visible mistakes, by candour",
        why="a single mistake barely registers with customers; how it is handled does")
    viral_trust_step: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="6 culture", source="002, 003",
        doc="customers' trust moved by a viral mistake of severity 1, by candour",
        why="a viral mistake moves trust by a tenth, up or down depending on candour")

    # --- customers (mechanism 7) --------------------------------------------------------------
    word_of_mouth: float = _b(
        0.3, ge=0.0, le=1.0, mechanism="7 customers", source="003",
        doc="weekly awareness pull of the share of one's contacts who are members",
        why="hearing from friends is the main way customers find a community")
    join_rate: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="7 customers", source="001",
        doc="weekly chance an aware, trusting customer joins a community that answers",
        why="a tenth of aware customers join each week when answers flow")
    answers_per_contributor: float = _b(
        2.0, ge=0.0, le=1000.0, mechanism="7 customers", source="003",
        doc="customer questions one visibly active customer-facing employee answers per week",
        why="a couple of public answers a week besides one's job")
    silo_penalty: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="7 customers", source="003",
        doc="how much answers suffer when customer-facing staff lack ties into the organisation",
        why="customers see one company (003): without ties inside half the answers fail")
    customer_patience: int = _b(
        4, ge=1, le=520, mechanism="7 customers", source="003",
        doc="weeks a customer waits for an answer before losing trust",
        why="there is an expectation of real-time response (003): a month is long")
    trust_reversion: float = _b(
        0.05, ge=0.0, le=1.0, mechanism="7 customers", source="002",
        doc="weekly pull of trust back to its baseline (the rest of the relationship)",
        why="trust has other sources than the community")
    trust_spread: float = _b(
        0.1, ge=0.0, le=0.5, mechanism="7 customers", source="002",
        doc="standard deviation of customers' initial trust",
        why="customers differ; few start as advocates or detractors")
    advocate_trust: float = _b(
        0.75, ge=0.0, le=1.0, mechanism="7 customers", source="003",
        doc="trust above which an aware customer recommends the company",
        why="net-promoter style: only the clearly satisfied recommend")
    detractor_trust: float = _b(
        0.3, ge=0.0, le=1.0, mechanism="7 customers", source="003",
        doc="trust below which a customer broadcasts disapproval",
        why="the clearly dissatisfied speak out (000)")
    detractor_influence: float = _b(
        0.05, ge=0.0, le=1.0, mechanism="7 customers", source="003",
        doc="weekly trust lost per unit share of detractors among one's contacts",
        why="complaints spread, slowly")
    advocate_pull: float = _b(
        0.25, ge=0.0, le=4.0, mechanism="7 customers", source="003",
        doc="strength of advocates' pull on their contacts' trust relative to detractors'",
        why="bad news travels about four times as far as good")
    contact_pull: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="7 customers", source="004",
        doc="awareness and joining pull of a visibly active employee one is in contact with",
        why="a salesperson who is active in the community brings their customers along")
    answer_trust_gain: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="7 customers", source="003",
        doc="share of the distance to full trust gained when a problem is solved",
        why="a solved problem is a modest step towards loyalty")
    public_answer_bonus: float = _b(
        1.5, ge=1.0, le=10.0, mechanism="7 customers", source="003",
        doc="a public answer in the community counts this many times a private one",
        why="a public answer is seen and builds more trust")
    waiting_trust_loss: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="7 customers", source="003",
        doc="share of trust lost per week a problem waits beyond patience",
        why="every week beyond patience costs a tenth of one's trust")
    give_up_factor: int = _b(
        4, ge=1, le=100, mechanism="7 customers", source="003",
        doc="patience periods after which a customer abandons a problem and leaves the community",
        why="after four months of silence a customer gives up")
    peer_answer_rate: float = _b(
        0.02, ge=0.0, le=1.0, mechanism="9 listening", source="001, 003",
        doc="weekly chance a trusting member answers a fellow customer's question",
        why="a few advocates help others (DesignSpark's community, 001)")
    idea_rate: float = _b(
        0.02, ge=0.0, le=1.0, mechanism="9 listening", source="001, 003",
        doc="weekly chance, times trust, that a member proposes an idea",
        why="a trusting member proposes an idea about once a year")
    crisis_hit_chance: float = _b(
        0.5, ge=0.0, le=1.0, mechanism="11 shocks", source="003",
        doc="chance an aware customer gets a problem from a crisis of severity 1",
        why="a public attack leaves half the audience with questions")
    crisis_trust_loss: float = _b(
        0.1, ge=0.0, le=1.0, mechanism="11 shocks", source="003",
        doc="trust an aware customer loses in a crisis of severity 1",
        why="an attack dents trust by a tenth before anyone answers")
    customer_praise: float = _b(
        5.0, ge=0.0, le=1000.0, mechanism="7 customers", source="003, 004",
        doc="recognition (in views) an employee earns for one public answer to a customer",
        why="a thanked answer is noticed by several people")
    unanswered_weight: float = _b(
        0.3, ge=0.0, le=3.0, mechanism="7 customers", source="004",
        doc="cost to customer-facing staff of the share of public questions left waiting (visible failure)",
        why="a community full of unanswered questions demoralises the people meant to answer them")

    # --- productivity (mechanism 8) -------------------------------------------------------------
    creative_gain: float = _b(
        0.06, ge=0.0, le=1.0, mechanism="8 productivity", source="002",
        doc="productivity gain from contributing (share of an employee-week)",
        why="together with the other two gains at most 22%, inside McKinsey's 20-25% (2012)")
    connective_gain: float = _b(
        0.08, ge=0.0, le=1.0, mechanism="8 productivity", source="002",
        doc="gain from weak ties: finding who knows what",
        why="see creative_gain")
    compounding_gain: float = _b(
        0.08, ge=0.0, le=1.0, mechanism="8 productivity", source="002",
        doc="gain from reusing earlier work in the knowledge stock",
        why="see creative_gain")
    connective_ties: float = _b(
        3.0, ge=0.1, le=100.0, mechanism="8 productivity", source="002",
        doc="cross-silo ties at which the connective gain reaches 63%",
        why="a few contacts outside one's department find most of what one needs")
