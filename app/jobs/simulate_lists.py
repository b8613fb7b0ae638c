"""The simulation's advanced certified lists (public notice, objections) and lighthouse recommendation and
cultivation: the part of `World` (app/jobs/simulate.py) that acts for certifiers, objectors and recommenders, one
unit of work per action."""
from datetime import date, datetime, timedelta

from app.errors import ServiceError
from app.services import deadlines, lists, objections, quotas, recommendation_lists, simulation
from app.services.clock import SHANGHAI
from app.services.simulation import FATES, OBJECTION_REASONS, VERDICTS
from app.uow import unit_of_work


class Lists:
    """Mixed into World: reads its campaign, plans, users, seeded streams and counts."""

    # -- advanced: the certified list, its public notice, objections -------------------------------------------------
    def plan_list(self, case_id: int, day: date) -> None:
        """An advanced case just approved waits for its certifier's next list: the certifier publishes one on a
        seeded day 2 to 12 days on (every case of its scope approved by then goes on it), or by the advanced
        recommendation deadline if the campaign sets one (the 2025 and 2026 data set none)."""
        tier, status, province, soe = simulation.case_scope(case_id)
        if tier != "advanced" or status != "approved":
            return
        scope = f"soe:{soe}" if soe else f"province:{province}"
        if scope in self.publish_on:
            return  # it joins the batch already planned
        when = day + timedelta(days=self.list_rng.randint(2, 12))
        due = deadlines.effective_dates(self.campaign, "advanced", province)["recommendation_deadline"]
        if due is not None:
            when = max(day, min(when, due))
        self.publish_on[scope] = when

    def next_verdict(self):
        if not self.verdicts:
            self.verdicts = list(VERDICTS)
            self.list_rng.shuffle(self.verdicts)
        return self.verdicts.pop()

    def publish(self, scope: str, now: datetime) -> None:
        """The certifier publishes its certified list: every approved advanced case of its scope, in one
        transaction that starts each case's public notice (5 Chinese working days); lists.publish_certified
        reports it to the national reviewers (and SASAC for a central SOE's list)."""
        del self.publish_on[scope]
        kind, key = scope.split(":", 1)
        ids = [cid for cid in simulation.approved_advanced(sorted(self.by_case), self.campaign.id, scope)
               if not self.by_case[cid].get("unlisted")]
        if not ids:
            return
        actor = self.users.get(("soe_reviewer" if kind == "soe" else "provincial_reviewer", scope))
        try:
            if actor is None:
                raise ServiceError(f"no certifier user for {scope}")
            with unit_of_work():
                lst = lists.publish_certified(actor, "advanced", self.year, ids)
        except ServiceError as exc:
            reason = exc.message[:200].strip()
            for cid in ids:
                self.by_case[cid]["unlisted"] = reason
            self.say(now, f"advanced certified list of {scope} refused ({len(ids)} case(s)): {reason}")
            return
        self.counts["certified lists"] += 1
        self.counts["advanced listed"] += len(ids)
        self.say(now, f"advanced certified list {lst.id}: {len(ids)} case(s) published by {actor.username}, "
                      "reported to the national reviewers" + (" and SASAC" if kind == "soe" else ""))
        day = now.astimezone(SHANGHAI).date()
        for cid in ids:
            until = simulation.first_due([cid])
            self.say(now, f"case {cid}: public notice until "
                          + (until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if until else "?"))
            verdict = self.next_verdict()
            if verdict:  # a competitor objects on a day within the notice (at least 5 working days)
                plan = self.by_case[cid]
                plan["objection"], plan["object_on"] = verdict, day + timedelta(days=self.list_rng.randint(1, 4))

    def lodge(self, case_id: int, plan: dict, now: datetime) -> None:
        """Another simulated factory lodges an objection during the notice (anyone logged in may, objections.lodge);
        it holds the case until the national reviewer decides (upheld: rejected; dismissed: the notice goes on)."""
        plan["object_on"] = None
        others = [e for e in sorted(self.plans) if e != plan["enterprise"]]
        actor = self.users[("enterprise", f"enterprise:{self.list_rng.choice(others)}")]
        reason = self.list_rng.choice(OBJECTION_REASONS)
        try:
            with unit_of_work():
                obj = objections.lodge(actor, case_id, reason)
        except ServiceError as exc:
            plan["objection"] = None
            self.say(now, f"case {case_id}: objection by {actor.username} refused: {exc.message[:100]}")
            return
        self.counts["objections lodged"] += 1
        self.say(now, f"case {case_id}: objection {obj.id} lodged by {actor.username} (planned: {plan['objection']})")

    def cultivating(self, case_id: int, plan: dict, now: datetime) -> None:
        """The national decision on targets started the two years: plan the acceptance application."""
        self.counts["lighthouse cultivated"] += 1
        until = simulation.first_due([case_id], "cultivation_deadline")
        fate = plan.get("fate", "expired")
        day = now.astimezone(SHANGHAI).date()
        if fate == "accepted":  # applies three weeks before its period ends; its province reviews only after it
            end = until.astimezone(SHANGHAI).date() if until else day + timedelta(days=730)
            self.rng.randint(270, 480)  # the draw the plan used to take: the later draws stay as they were
            plan["accept_on"] = end - timedelta(days=20)
            plan["late_review"] = end + timedelta(days=5)
            plan["watch_overdue"] = True
        elif fate == "retry":
            plan["accept_on"] = day + timedelta(days=self.rng.randint(200, 330))
        self.say(now, f"case {case_id}: lighthouse cultivation ({fate}) until "
                      + (until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if until else "?"))

    def recommend(self, tier: str, province: str, now: datetime) -> None:
        actor = self.users.get(("provincial_reviewer", f"province:{province}"))
        if actor is None:
            self.say(now, f"{tier} recommendation list: no provincial reviewer of {province}")
            return
        waiting = simulation.awaiting_recommendation(self.campaign.id, tier, province)
        if not waiting:  # nothing to rank: no empty list is recorded
            return
        ranked = waiting[:]
        self.rng.shuffle(ranked)
        try:
            with unit_of_work():
                quota, _basis = quotas.quota_for(tier, actor.scope, self.campaign)
                listed = ranked[:quota]
                lst = lists.recommend(actor, tier, self.year, listed)  # open for amendment until the deadline
            if len(listed) > 1:  # the recommender changes its mind before the deadline (16.3): the last two swap
                listed = listed[:-2] + listed[-2:][::-1]
            with unit_of_work():  # the amended list, closed now: its cases learn their outcome
                lst = recommendation_lists.amend(actor, lst.id, listed, final=True)
        except ServiceError as exc:
            self.say(now, f"{tier} recommendation list refused: {exc.message[:100]}")
            return
        amended = (lst.details or {}).get("amendments", 0)
        self.counts["recommended"] += len(listed)
        self.say(now, f"{tier} recommendation list {lst.id}: {len(listed)} of {len(waiting)} case(s) ranked "
                      f"(quota {quota}; amended {amended} time(s) before closing)")
        if tier == "excellent" and listed:  # its expert panel rejects, the lead overrides with a reason (16.7)
            self.by_case[listed[0]]["override"] = True
        if tier == "lighthouse":
            fates = list(FATES)
            self.rng.shuffle(fates)
            for k, cid in enumerate(listed):
                self.by_case[cid]["fate"] = fates[k % len(fates)]
        for cid in sorted(set(waiting) - set(listed)):
            self.report_end(cid, now)
