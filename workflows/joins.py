"""Joins inside loops: each round of a join counts and merges only its own branches.

SpiffWorkflow keeps every round's tasks in one tree. In 3.2.0 a parallel gateway decides whether it may fire by
looking at *every* task of its spec, so the join tasks an earlier round left behind (the cancelled ones of the
branches that arrived first) still count as arrived inputs: in the second round the join fired as soon as the
branch that had arrived last in the first round arrived again. The data merge (`UnstructuredJoin._run_hook`, used
by parallel, inclusive and the end join) also merged those earlier rounds' branch data into the new round, so a
later round could carry an earlier round's answers. (Upstream handled a related case, a join whose first round
waits on its own descendant, in sartography/SpiffWorkflow PR #344; that part is kept below.)

The fix: the current round of a join is what lies below the last time that join fired, i.e. below the nearest
ancestor task of the same spec (none in the first round: then everything counts, as before). Only the join's tasks
in that subtree are counted and merged. Applied once, on import of `workflows` (as `clock.py` replaces the timer
module's clock), so it also covers the stored specs of versions deployed before it.

A diagram that loops back through a parallel section must still clear a round's answers before the loop reaches
the split again: every branch starts from a copy of the split's data, and the merge would let a copy of an old
answer carried by one branch overwrite the new answer of another (the advanced diagram's `joint_reset`, on the
return flow, so that cases waiting in a first round can still migrate to the version that has it).
"""
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

PATCHED_FOR = "3.2.0"  # tests/engine/test_join_in_loop.py fails on another version: re-read the two methods then


def current_round(spec, my_task) -> list:
    """The tasks of join `spec` that belong to `my_task`'s round: all of them below the join's last firing."""
    last = my_task.find_ancestor(spec.name)
    tasks = my_task.workflow.get_tasks(spec_name=spec.name)
    return tasks if last is None else [t for t in tasks if t.is_descendant_of(last)]


def _parallel_may_fire(self, my_task) -> bool:
    """Every incoming flow has a completed source among this round's join tasks."""
    waiting = set(self.inputs)
    for task in current_round(self, my_task):
        if task.is_descendant_of(my_task):
            # a join task predicted below this one: its inputs are reached only after this join fires (PR #344)
            node = task
            while node is not None and node.task_spec not in waiting:
                node = node.parent
            if node is not None:
                waiting.discard(node.task_spec)
        elif task.parent is not None and task.parent.state == TaskState.COMPLETED:
            waiting.discard(task.parent.task_spec)
    return not waiting


def _merge_this_round(self, my_task) -> bool:
    """Merge the data of this round's finished branches (oldest first), then the one that fires."""
    others = [t for t in current_round(self, my_task)
              if t is not my_task and t.has_state(TaskState.FINISHED_MASK) and not my_task.is_descendant_of(t)]
    for task in sorted(others, key=lambda t: t.last_state_change):
        DeepMerge.merge(my_task.data, task.parent.data)
        if task.has_state(TaskState.COMPLETED):  # after a reset into a cancelled branch (as the library does)
            task._drop_children(force=True)
    my_task._inherit_data()
    return True


ParallelGateway._check_threshold_unstructured = _parallel_may_fire
UnstructuredJoin._run_hook = _merge_this_round
