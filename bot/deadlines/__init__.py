"""Promises and their due times: business-hours calendars and the sweeper."""
