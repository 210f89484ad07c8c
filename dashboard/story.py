"""The workshop storyline: steps of presets and explicit lever changes, questions, quotes.

Nothing here states a result: each step says what it changes, asks the room, and explains the
*mechanism* the change acts on, quoting the article it comes from. The numbers shown at the
reveal are computed live (``views/workshop.py``), so the room sees what the model does, which
may not be what the article claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Arm:
    """One strategy shown in a step: a preset plus lever changes."""

    label: str
    preset: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    title: str
    setup: str  # what this step changes, in plain words
    question: str  # asked to the room before the reveal
    arms: tuple[Arm, ...]  # the last arm is the new one; earlier arms are for contrast
    mechanism: str  # what the change does in the model (no outcome claimed)
    quote: str
    source: str
    outcome: str = "active_share"  # the weekly series charted at the reveal


PROVIDE_AND_PRAY = Arm("provide and pray", "provide_and_pray")
WITH_PURPOSE = Arm("+ a purpose", "provide_and_pray", {"purpose_strength": 0.8, "leader_commitment": 0.8})
WALK_THE_TALK = Arm("+ leaders walk the talk", "provide_and_pray",
                    {"purpose_strength": 0.8, "leader_commitment": 0.8, "leader_participation": 0.7})
BIG_BANG = Arm("purpose-led, big bang", "purpose_led_big_bang")
STEPWISE = Arm("purpose-led, stepwise", "purpose_led_stepwise")

STEPS: tuple[Step, ...] = (
    Step(
        title="1. Provide and pray",
        setup="Everyone gets the tools on day one, behind a tight compliance review. Content is locked in "
              "groups, there is no stated purpose, leaders are not on the platform, mistakes are blamed.",
        question="After two years, what share of staff will be posting regularly?",
        arms=(PROVIDE_AND_PRAY,),
        mechanism="Each week every employee weighs what taking part is worth to them (colleagues they see "
                  "posting, what they see their leaders do, a purpose, the platform's value, recognition) against "
                  "what it costs them: their own effort, which approval steps multiply, and the fear of being "
                  "blamed. Here the only early pull is the novelty of a new tool, which fades week by week; the "
                  "eager few for whom posting is easy still post behind the firewall.",
        quote="Leaders and managers provide access to social technology through a tightly-guarded, "
              "compliance-based firewall. They pray that a community forms and that community interactions "
              "somehow lead to business value.",
        source="Dent, \"Social media is now everyone's business\" (seeds/001)"),
    Step(
        title="2. Add a purpose",
        setup="Same organisation and tools, but the management team articulates a compelling, specific purpose "
              "and commits to it. Nothing else changes: the firewall, the locked groups and the absent leaders stay.",
        question="Does a purpose alone change the picture? Higher, lower, or about the same as step 1?",
        arms=(PROVIDE_AND_PRAY, WITH_PURPOSE),
        mechanism="Purpose clarity is built by committed leaders and passed down the reporting hierarchy week by "
                  "week; alignment with it adds to what taking part is worth to each person. It does not lower "
                  "the posting friction or the fear of blame.",
        quote="... communities do not form around technologies: they grow and thrive when a compelling purpose is "
              "articulated.",
        source="Dent (seeds/001)"),
    Step(
        title="3. Leaders walk the talk",
        setup="Keep the purpose, and now executives and managers participate visibly on the platform.",
        question="How much do visible leaders add on top of the purpose?",
        arms=(WITH_PURPOSE, WALK_THE_TALK),
        mechanism="Leaders are asked and helped to take part, which adds to their own motivation; they still "
                  "face the same friction and fear, so not every leader posts. What others see them do is the "
                  "signal: a manager seen posting pulls on their reports (in the model's top-down reading; the "
                  "bottom-up reading, where managers follow their teams, is one switch away).",
        quote="They must walk the talk themselves with the ambition to become role models that will influence "
              "others to change.",
        source="\"The journey towards a truly social business starts from within\" (seeds/004)"),
    Step(
        title="4. Anyone can participate, shared by default",
        setup="The full purpose-led strategy: also drop most of the compliance review, make contributions open "
              "to everyone by default, admit mistakes candidly instead of blaming, listen to customers.",
        question="Compared with step 3, what happens when the firewall comes down and sharing is open?",
        arms=(WALK_THE_TALK, BIG_BANG),
        mechanism="Lower friction lowers everyone's effort; open contributions feed a shared knowledge stock and "
                  "cross-silo ties (the network effect), and readers' attention feeds back into posting (the "
                  "virtuous participation cycle, bounded by time). Candour over blame rebuilds psychological "
                  "safety after mistakes instead of eroding it.",
        quote="Anyone can participate. ... Create shared value by default.",
        source="Hinchcliffe & Kim, the three tenets of social business (seeds/000)"),
    Step(
        title="5. Big bang or stepwise?",
        setup="The same purpose-led levers, rolled out two ways: everyone at once, or a quarter of the "
              "departments every eight weeks.",
        question="Which rollout ends with more people contributing, and which gets there sooner?",
        arms=(BIG_BANG, STEPWISE),
        mechanism="People join when enough of their own contacts are active (complex contagion). A wave "
                  "concentrates the launch in fewer departments, where colleagues reinforce each other; a big "
                  "bang spreads the same early effort thinly across the whole organisation.",
        quote="... avoiding big bang change programs and instead focusing on making one change at the time, "
              "integrating the change everywhere.",
        source="\"The journey towards a truly social business starts from within\" (seeds/004)"),
    Step(
        title="6. A crisis hits",
        setup="The purpose-led big bang, then an activist attack on the company page (week 30), a viral employee "
              "mistake (week 40), the sponsoring executive leaving (week 52) and a compliance clampdown (week 70).",
        question="Does the community absorb the shocks, or does participation collapse, and after which one?",
        arms=(BIG_BANG, Arm("purpose-led, under shocks", "purpose_led_under_shocks")),
        mechanism="Read the chart by week, one shock at a time. The crisis (week 30) and the viral mistake "
                  "(week 40) test the culture: where people act human a crisis rallies staff and mistakes admitted "
                  "quickly rebuild safety and customers' trust; the crisis also brings customers' questions that "
                  "staff answer in public (and are thanked for) or leave waiting. The departing sponsor (week 52) takes leadership clarity with them. The compliance "
                  "clampdown (week 70) raises the posting friction again for everyone: a fall that starts after "
                  "week 70 is the clampdown's doing, not the crisis's.",
        quote="Mistakes will be made. Respect will be given to those companies who admit their mistakes "
              "immediately, and offer thoughtful, meaningful responses to them.",
        source="\"A Means to an End\" on acting human (seeds/002); attacks on company pages (HBR, seeds/003)",
        outcome="active_share"),
    Step(
        title="7. The same crisis under fear and blame",
        setup="The same shocks, but now the organisation blames people for public mistakes and hides them.",
        question="How different is the story when the culture punishes mistakes?",
        arms=(Arm("under shocks, candour", "purpose_led_under_shocks"),
              Arm("under shocks, fear and blame", "purpose_led_under_shocks",
                  {"blame_culture": 0.8, "mistake_candour": 0.1})),
        mechanism="With a blame culture, a public mistake dents the safety of the person's colleagues too, a "
                  "crisis frightens instead of rallying people, and lost safety holds people back from posting; "
                  "hidden mistakes cost customers' trust.",
        quote="Management by fear and blame is left behind along with its tendency to breed mediocrity from "
              "people who either don’t want to take risks, or who have lost faith that their best contributions "
              "can be valuable in the organization.",
        source="\"A Means to an End\" (seeds/002)"),
    Step(
        title="8. Inside first, or both tracks at once?",
        setup="The same purpose-led internal rollout, with the customer community opened either a year later "
              "(inside-out) or on day one (two-track).",
        question="Does opening to customers early help the staff community or hurt it?",
        arms=(Arm("inside-out (customers at week 52)", "inside_out"), Arm("two-track (customers at once)", "two_track")),
        mechanism="Customers reach staff both ways: a public question answered earns the staff who answered it "
                  "recognition, a public question left waiting demoralises the customer-facing staff meant to "
                  "answer it. Opening before staff are ready risks visible failure; opening late forgoes the "
                  "praise. Which wins depends on how ready the organisation is.",
        quote="Or is it a two-track paralel development with internal transformation going hand in hand with "
              "external exploration?",
        source="\"The journey towards a truly social business starts from within\" (seeds/004), comment thread"),
)
