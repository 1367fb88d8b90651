"""Versioned payload schemas of every integration event: the contracts between services.

Producers validate what they emit and consumers validate what they receive
against the same schema; ``chassis.events.catalogue`` lists who produces and
who consumes each event, and tests keep ``docs/events.md`` equal to it.
"""
