"""Every alarm of the template is fired by a test: the fault table that drives
tests/workflow/test_alarms.py names each one, and no alarm the template lacks."""

from workflow import test_alarms  # the fault tests

from support.alarm_faults import FAULTS


def test_every_alarm_of_the_template_is_fired_by_a_fault_of_the_table(sam_template):
    alarms = set(sam_template.of_type("AWS::CloudWatch::Alarm"))
    fired = set().union(*(fault.alarms for fault in FAULTS))

    assert sorted(alarms - fired) == [], "alarms that no fault test fires"
    assert sorted(fired - alarms) == [], "alarms that the template does not have"


def test_the_table_drives_the_fault_tests():
    """Each fault is its own case of the fault test, which asserts exactly its alarms."""
    [parametrized] = test_alarms.test_each_fault_fires_exactly_its_alarms_and_notifies_alarm_topic.pytestmark
    assert parametrized.args == ("fault", FAULTS)
    assert {fault.kind for fault in FAULTS} == set(test_alarms.INJECT)
    assert len({fault.id for fault in FAULTS}) == len(FAULTS)


def test_a_percentile_alarm_keeps_its_state_on_too_few_requests(sam_template):
    """A p99 of a few requests is their cold starts: CloudWatch ignores it when told to."""
    percentile_alarms = {
        name: alarm["Properties"]
        for name, alarm in sam_template.of_type("AWS::CloudWatch::Alarm").items()
        if "ExtendedStatistic" in alarm["Properties"]
    }
    assert sorted(percentile_alarms) == ["BackOfficeLatencyP99Alarm", "StorefrontLatencyP99Alarm"]
    assert {alarm["EvaluateLowSampleCountPercentile"] for alarm in percentile_alarms.values()} == {"ignore"}
