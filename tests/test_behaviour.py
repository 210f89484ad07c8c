"""Behaviour checks: each mechanism moves outcomes in its documented direction in a *marginal*
regime (an organisation near its tipping point, where a mechanism can matter), statistically:
named seeds, means over replicates with common random numbers, tolerances explained where used.
"""

from __future__ import annotations

import numpy as np

from sim import SocialBusinessModel, classic
from sim.scenario import Scenario

from .conftest import small

SEEDS = (101, 202, 303, 404, 505)


def marginal(**levers) -> Scenario:
    """A small organisation near its tipping point: a purpose-led rollout in a receptive workforce.

    Everything on; about a tenth to a fifth of eligible staff end up contributing, so pulls and
    costs both have room to move the outcome.
    """
    base = dict(name="marginal", employees=600, departments=6, customers=2000, weeks=60, workforce_effort=0.85,
                purpose_strength=0.7, leader_commitment=0.6, leader_participation=0.6, posting_friction=0.15,
                open_by_default=0.7, blame_culture=0.3, mistake_candour=0.5, external_launch_week=10,
                waves=[{"week": 0, "departments": "all"}])
    base.update(levers)
    return Scenario(**base)


def runs(scenario: Scenario, seeds=SEEDS):
    return [SocialBusinessModel(scenario, rng=s).run() for s in seeds]


def mean_summary(scenario: Scenario, key: str = "active_share", seeds=SEEDS) -> float:
    return float(np.mean([r.summary[key] for r in runs(scenario, seeds)]))


def test_the_marginal_regime_is_marginal():
    """The regime the direction tests use is neither dead nor saturated."""
    share = mean_summary(marginal())
    assert 0.08 < share < 0.5, share


def only_peer_influence(**levers) -> Scenario:
    """Every mechanism off but peer influence, no chance and no noise: a threshold model."""
    base = dict(employees=800, departments=8, customers=0, weeks=30,
                use_barriers=False, use_network_effect=False, use_purpose=False,
                use_role_models=False, use_culture=False, use_customers=False, use_customer_feedback=False,
                use_productivity=False, use_listening=False, use_rollout=False, use_shocks=False,
                use_turnover=False, peer_weight=1.0, decision_noise=0.0, spontaneous_adoption=0.0,
                launch_novelty=0.0, imitation=0.0, lapse_rate=0.0, reading_uptake=0.0, reading_lapse=0.0,
                contribution_rate=1.0, propensity_spread=0.0, visibility_window=1,
                threshold_mean=0.2, threshold_sd=0.15)
    base.update(levers)
    return Scenario(**base)


def test_only_peer_influence_is_a_threshold_cascade():
    """With every other mechanism off the model *is* the synchronous Watts cascade.

    Active people post exactly once a week (rate 1, propensity 1, no friction), so "visibly
    active last week" is "active": exposure is the active share of one's contacts.
    """
    model = SocialBusinessModel(only_peer_influence(), rng=7)
    active = []
    for _ in range(model.config.weeks):
        model.step()
        active.append(np.isin(model.state.stage, (2, 3)))
    # Week 1 activates exactly the people whose bar is 0 (net motivation 0 >= 0): the seeds.
    seeds = active[0]
    assert seeds.sum() > 0
    np.testing.assert_array_equal(seeds, model.state.threshold <= 0.0)
    final, per_step = classic.threshold_cascade(model.org.indptr, model.org.indices, model.state.threshold,
                                                seeds, max_steps=model.config.weeks)
    counts = [int(a.sum()) for a in active]
    steps = len(per_step)
    assert counts[:steps] == list(per_step)
    assert all(c == per_step[-1] for c in counts[steps:])
    np.testing.assert_array_equal(active[-1], final)
    assert per_step[-1] > seeds.sum()  # it did cascade, so the comparison is not trivial


# --- mechanism 1: anyone can participate ----------------------------------------------------------

def test_closing_access_lowers_participation_of_the_workforce():
    everyone = marginal()
    facing_only = marginal(waves=[{"week": 0, "departments": "customer_facing"}])
    assert mean_summary(facing_only, "active_share_of_all") < mean_summary(everyone, "active_share_of_all")


def test_friction_lowers_participation_but_the_eager_still_post():
    free = mean_summary(marginal(posting_friction=0.0))
    firewall = mean_summary(marginal(posting_friction=1.0))
    assert firewall < free
    assert firewall > 0.0  # friction multiplies effort: those for whom posting is easy still post


# --- mechanism 2: network effect and the virtuous participation cycle ----------------------------

def test_participation_is_unequal_without_being_told_to():
    """The virtuous cycle concentrates content: more reputation feedback, a larger top 1%."""
    strong = mean_summary(marginal(reputation_feedback=1.8), "top1_share")
    none = mean_summary(marginal(reputation_feedback=0.0), "top1_share")
    assert strong > none
    # Among people who start alike (no spread of propensity), concentration emerges from the
    # cycle alone once recognition saturates early (attention is then worth competing for).
    alike = marginal(propensity_spread=0.0, recognition_saturation=2.0)
    emerged = mean_summary(alike.with_levers(reputation_feedback=2.0), "top1_share")
    flat = mean_summary(alike.with_levers(reputation_feedback=0.0), "top1_share")
    assert emerged > 0.1 and emerged > 3 * flat


def test_lurkers_by_disposition_read_but_never_write():
    """With a share of staff who never mean to write (5.3.2), fewer ever post and more only read,
    and content concentrates on the writers; nobody who is not a writer ever posts."""
    everyone = runs(marginal())
    few = runs(marginal(writer_share=0.3))
    ever_posted = lambda rs: float(np.mean([1 - r.summary["never_posted_share"] for r in rs]))
    only_read = lambda rs: float(np.mean([r.summary["only_read_share"] for r in rs]))
    assert ever_posted(few) < ever_posted(everyone)
    assert only_read(few) > only_read(everyone)
    for r in few:
        table = r.participation
        lurkers = ~table["writer"] & (table["role"] == "employee")
        assert lurkers.sum() > 0 and (table.loc[lurkers, "contributions"] == 0).all()
        assert table.loc[table["role"].isin(["manager", "executive"]), "writer"].all()  # leaders always can


def test_everyone_writes_by_default_and_the_draw_leaves_other_numbers_alone():
    """writer_share = 1 is the model before the change: everyone a writer, every other draw the same."""
    from sim.state import writers

    leaders = np.zeros(5000, dtype=bool)
    leaders[:50] = True
    assert writers(np.uint64(12345), marginal(), leaders).all()
    some = writers(np.uint64(12345), marginal(writer_share=0.25), leaders)
    assert some[:50].all() and abs(some[50:].mean() - 0.25) < 0.03
    a = SocialBusinessModel(marginal(weeks=1), rng=3)
    b = SocialBusinessModel(marginal(weeks=1, writer_share=0.25), rng=3)
    np.testing.assert_array_equal(a.state.threshold, b.state.threshold)
    np.testing.assert_array_equal(a.state.propensity, b.state.propensity)


def test_posting_stays_bounded_by_attention_and_time():
    """Posts per contributor stay near the budget however strong the feedback (no runaway)."""
    for result in runs(marginal(reputation_feedback=2.0, reputation_decay=0.005, weeks=104), SEEDS[:3]):
        s = result.series
        assert (s["posts_per_contributor"] <= marginal().posting_budget + 1).all()
        assert np.isfinite(result.participation["reputation"]).all()


def test_open_activity_grows_cross_silo_ties_and_locking_content_stops_it():
    base = marginal(weak_tie_rate=0.3, use_turnover=False)
    for seed in SEEDS[:3]:
        opened = SocialBusinessModel(base.with_levers(open_by_default=1.0), rng=seed).run().series
        locked = SocialBusinessModel(base.with_levers(open_by_default=0.0), rng=seed).run().series
        assert locked["cross_silo_ties"].iloc[-1] == locked["cross_silo_ties"].iloc[0]
        assert opened["cross_silo_ties"].iloc[-1] > opened["cross_silo_ties"].iloc[0]


# --- mechanism 3: purpose -------------------------------------------------------------------------

def test_purpose_raises_participation():
    assert mean_summary(marginal(purpose_strength=0.0)) < mean_summary(marginal(purpose_strength=1.0))


# --- mechanism 4: leaders, and how influence runs through the hierarchy ---------------------------

def test_leaders_walking_the_talk_raise_participation():
    assert mean_summary(marginal(leader_participation=0.0)) < mean_summary(marginal(leader_participation=1.0))


def test_no_leader_is_active_by_decree():
    """Walking the talk adds to leaders' motivation; it does not make every leader contribute."""
    for result in runs(marginal(leader_participation=1.0, posting_friction=0.8, blame_culture=0.9), SEEDS[:3]):
        p = result.participation
        leaders = p[p["role"].isin(["executive", "manager"])]
        assert (leaders["stage"].isin(["contributor", "champion"])).mean() < 0.9


def _front_line_share(result) -> float:
    p = result.participation
    line = p[p["role"] == "employee"]
    return float(line["stage"].isin(["contributor", "champion"]).mean())


def test_hierarchy_hypotheses_differ_in_who_pulls_whom():
    """top_down: leaders seen walking the talk pull their reports. bottom_up (Wang, Meister & Gray
    2013): influence runs up, so the front line gains less from leaders walking the talk."""
    gains = {}
    for hypothesis in ("top_down", "bottom_up"):
        base = marginal(hierarchy_influence=hypothesis, role_model_weight=1.0)
        walking = np.mean([_front_line_share(r) for r in runs(base.with_levers(leader_participation=1.0))])
        absent = np.mean([_front_line_share(r) for r in runs(base.with_levers(leader_participation=0.0))])
        gains[hypothesis] = walking - absent
    assert gains["top_down"] > gains["bottom_up"]
    series = {h: SocialBusinessModel(marginal(hierarchy_influence=h), rng=1).run().series["active_share"]
              for h in ("top_down", "bottom_up", "middle_out")}
    assert not series["top_down"].equals(series["bottom_up"])
    assert not series["top_down"].equals(series["middle_out"])


# --- mechanism 5: complex contagion and concentration ---------------------------------------------

def _half_the_seats(spread: str) -> Scenario:
    return marginal(waves=[{"week": 0, "share": 0.5, "spread": spread}], use_turnover=False)


def test_scattered_seats_reach_the_same_number_of_people():
    for seed in SEEDS[:2]:
        clustered = SocialBusinessModel(_half_the_seats("clustered"), rng=seed).run()
        scattered = SocialBusinessModel(_half_the_seats("scattered"), rng=seed).run()
        assert clustered.series["eligible"].iloc[-1] == scattered.series["eligible"].iloc[-1]
        depts = scattered.participation.groupby("department")["has_access"].mean()
        assert (depts > 0).all() and (depts < 1).all()  # seats in every team, no team whole


def test_concentrated_seats_beat_scattered_ones_in_a_marginal_regime():
    """Complex contagion (Centola 2010): the same number of seats given to whole teams reinforce each
    other; scattered across the organisation, few colleagues of a seat-holder can join them."""
    clustered = mean_summary(_half_the_seats("clustered"))
    scattered = mean_summary(_half_the_seats("scattered"))
    assert scattered < clustered


def test_peer_influence_raises_participation():
    assert mean_summary(marginal(peer_weight=0.0)) < mean_summary(marginal(peer_weight=1.0))


# --- mechanism 6: culture -------------------------------------------------------------------------

def test_blame_erodes_safety_and_candour_rebuilds_it():
    base = marginal(mistake_rate=0.05, use_shocks=False)
    blame = runs(base.with_levers(blame_culture=0.9, mistake_candour=0.1))
    candour = runs(base.with_levers(blame_culture=0.0, mistake_candour=1.0))
    safety = lambda rs: np.mean([r.series["mean_safety"].iloc[-1] for r in rs])  # noqa: E731
    posts = lambda rs: np.mean([r.series["posts"].sum() for r in rs])  # noqa: E731
    assert safety(blame) < base.initial_safety < safety(candour)
    assert posts(blame) < posts(candour)


def test_culture_off_means_no_mistakes_and_fixed_safety():
    result = SocialBusinessModel(small(use_culture=False, use_shocks=False, weeks=20, turnover_rate=0.0), rng=1).run()
    assert result.series["mistakes"].sum() == 0
    assert np.allclose(result.series["mean_safety"], small().initial_safety)


# --- mechanism 7: customers, and what they do to staff --------------------------------------------

def test_silos_slow_answers_to_customers():
    """Customers see one company (003): with a strong silo penalty problems wait longer."""
    base = marginal(cross_silo_ties=0.0, weak_tie_rate=0.0, answers_per_contributor=0.5,
                    support_answer_rate=0.1, external_launch_week=0)
    siloed = mean_summary(base.with_levers(silo_penalty=1.0), "response_time")
    joined_up = mean_summary(base.with_levers(silo_penalty=0.0), "response_time")
    assert joined_up < siloed


def _facing_share(result) -> float:
    p = result.participation
    return float(p[p["customer_facing"]]["stage"].isin(["contributor", "champion"]).mean())


def test_customer_praise_draws_customer_facing_staff_in():
    base = marginal(external_launch_week=0)
    praised = np.mean([_facing_share(r) for r in runs(base.with_levers(customer_praise=50.0))])
    ignored = np.mean([_facing_share(r) for r in runs(base.with_levers(customer_praise=0.0))])
    assert praised > ignored


def test_questions_left_unanswered_demoralise_customer_facing_staff():
    base = marginal(external_launch_week=0, answers_per_contributor=0.2, support_answer_rate=0.05)
    demoralised = np.mean([_facing_share(r) for r in runs(base.with_levers(unanswered_weight=2.0))])
    unmoved = np.mean([_facing_share(r) for r in runs(base.with_levers(unanswered_weight=0.0))])
    assert demoralised < unmoved


def test_customers_do_not_reach_staff_when_the_feedback_is_switched_off():
    base = marginal(use_customer_feedback=False)
    a = SocialBusinessModel(base.with_levers(external_launch_week=0), rng=3).run().series
    b = SocialBusinessModel(base.with_levers(external_launch_week=50), rng=3).run().series
    np.testing.assert_array_equal(a["active_share"], b["active_share"])


# --- mechanisms 8, 9, 10 --------------------------------------------------------------------------

def test_listening_turns_ideas_into_innovations():
    assert mean_summary(marginal(listening=0.0), "innovations") == 0.0
    assert mean_summary(marginal(listening=0.8), "innovations") > 0.0


def test_no_access_means_no_participation():
    # A wave after the horizon is refused, so "no access" is a wave open to early adopters only,
    # with no early adopters.
    result = SocialBusinessModel(small(waves=[{"week": 0, "departments": "all"}], weeks=20, use_shocks=False,
                                       access_scope="early_adopters", early_adopter_share=0.0), rng=3).run()
    assert result.series["active_contributors"].max() == 0
    assert (result.series["no_access"] == 240).all()
    assert (result.series["active_share"] == 0).all()


# --- mechanism 12: dynamics -----------------------------------------------------------------------

def test_newcomers_arrive_without_habit_and_turnover_wears_a_community_down():
    """Newcomers have no habit. Where habits carry a community (and onboarding brings no buzz of
    its own: with launch_novelty > 0 newcomers' fresh curiosity can outweigh it), turnover wears
    it down."""
    base = marginal(weeks=104, habit_weight=0.6, launch_novelty=0.0)
    steady = runs(base.with_levers(turnover_rate=0.0))
    churn = runs(base.with_levers(turnover_rate=0.02))
    habit = lambda rs: np.mean([r.series["mean_habit"].iloc[-1] for r in rs])  # noqa: E731
    share = lambda rs: np.mean([r.summary["active_share"] for r in rs])  # noqa: E731
    assert habit(churn) < habit(steady)
    assert share(churn) < share(steady)
    assert sum(r.series["leavers"].sum() for r in churn) > 0


def test_the_launch_buzz_fades():
    """Novelty pulls people in early; without it the early peak is lower."""
    buzz = mean_summary(marginal(launch_novelty=0.6, weeks=20), "peak_active_share")
    flat = mean_summary(marginal(launch_novelty=0.0, weeks=20), "peak_active_share")
    assert flat < buzz


def test_habit_makes_contributing_easier():
    assert mean_summary(marginal(habit_weight=0.0)) < mean_summary(marginal(habit_weight=0.6))


def test_departments_differ_in_effort_and_newcomers_keep_their_departments():
    """department_effort_spread: one multiplier per department, the same for a seat's newcomers;
    at 0 every department is the workforce (the model before the key, bit for bit)."""
    flat_bars = dict(threshold_sd=0.0, turnover_rate=0.05, weeks=30)  # every bar = effort x threshold_mean
    alike = SocialBusinessModel(marginal(**flat_bars), rng=5)
    assert (alike.effort == alike.config.workforce_effort).all()
    model = SocialBusinessModel(marginal(department_effort_spread=1.0, **flat_bars), rng=5)
    multipliers = [np.unique(model.effort[model.org.department == d]) for d in range(model.org.n_departments)]
    assert all(len(m) == 1 for m in multipliers)  # one per department
    assert len({float(m[0]) for m in multipliers}) == model.org.n_departments  # and they differ
    model.run()
    assert model.result().series["leavers"].sum() > 20
    np.testing.assert_allclose(model.state.threshold, model.effort * model.config.threshold_mean, rtol=1e-15)
    again = SocialBusinessModel(marginal(department_effort_spread=1.0, **flat_bars), rng=5)
    assert again.effort.tobytes() == model.effort.tobytes()  # drawn from the seed


def test_departments_that_differ_in_effort_take_off_unevenly():
    """With departments differing in effort, a community forms in some and not in others: the
    departments' final active shares spread more than when they are alike (same seeds)."""
    def spread_of_departments(scenario):
        spreads = []
        for r in runs(scenario):
            final = r.departments[r.departments["week"] == r.departments["week"].max()]
            spreads.append(float(final["active_share"].std()))
        return float(np.mean(spreads))

    alike = spread_of_departments(marginal(weeks=80))
    different = spread_of_departments(marginal(weeks=80, department_effort_spread=1.0))
    assert different > 2 * alike, (alike, different)
