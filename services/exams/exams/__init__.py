"""Bildungsportal exams service."""
