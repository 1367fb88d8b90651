from chassis.problems import flatten_validation_messages, validation_problem


def test_nested_messages_become_json_pointers() -> None:
    messages = {
        "apprentice": {"birth_date": ["Not a valid date."]},
        "a/b": ["x"],
        "items": {0: {"n": ["bad"]}},
    }
    assert flatten_validation_messages(messages) == [
        {"pointer": "#/apprentice/birth_date", "detail": "Not a valid date."},
        {"pointer": "#/a~1b", "detail": "x"},
        {"pointer": "#/items/0/n", "detail": "bad"},
    ]


def test_webargs_locations_are_folded_into_the_pointer() -> None:
    response = validation_problem(
        {"json": {"email": ["Not a valid email address."]}, "query": {"limit": ["bad"]}}
    )
    body = response.get_json(force=True)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert body["errors"] == [
        {"pointer": "#/email", "detail": "Not a valid email address."},
        {"pointer": "#/limit", "detail": "bad", "in": "query"},
    ]


def test_whole_object_errors_point_at_the_object() -> None:
    messages = {"apprentice": {"_schema": ["Invalid input type."]}, "_schema": ["Invalid input type."]}
    assert [e["pointer"] for e in flatten_validation_messages(messages)] == ["#/apprentice", "#"]
