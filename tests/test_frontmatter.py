"""The frontmatter reader: line numbers, and every malformed input refused with a line."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardbook.core import frontmatter
from cardbook.core.frontmatter import FrontmatterError


def refused(text: str) -> tuple[int, str]:
    with pytest.raises(FrontmatterError) as caught:
        frontmatter.parse(text)
    return caught.value.line, caught.value.message


def test_values_and_lines() -> None:
    text = (
        "---\n"
        "title: Rotate the keys\n"
        "modified: 2026-01-31\n"
        "requires:\n"
        "  - first\n"
        "  - second\n"
        "tags: [a, b]\n"
        "---\n"
        "# Body\n"
    )
    meta = frontmatter.parse(text)
    assert meta is not None
    assert meta.values == {
        "title": "Rotate the keys",
        "modified": dt.date(2026, 1, 31),
        "requires": ["first", "second"],
        "tags": ["a", "b"],
    }
    assert meta.key_lines == {"title": 2, "modified": 3, "requires": 4, "tags": 7}
    assert meta.item_lines == {"requires": [5, 6], "tags": [7, 7]}
    assert meta.line_of("tags") == 7
    assert meta.line_of("status", 42) == 42
    assert meta.body_line == 9
    assert text[meta.body_offset :] == "# Body\n"


def test_no_frontmatter_is_none() -> None:
    assert frontmatter.parse("# Just a page\n") is None
    assert frontmatter.parse("") is None
    assert frontmatter.parse("text\n---\ntitle: x\n---\n") is None


def test_empty_frontmatter_is_an_empty_mapping() -> None:
    meta = frontmatter.parse("---\n---\nbody\n")
    assert meta is not None
    assert meta.values == {}
    assert meta.body_line == 3


def test_dots_close_the_frontmatter_and_crlf_is_read() -> None:
    meta = frontmatter.parse("---\r\ntitle: T\r\n...\r\nbody\r\n")
    assert meta is not None
    assert meta.values == {"title": "T"}
    assert meta.key_lines == {"title": 2}
    assert meta.body_line == 4


def test_frontmatter_without_a_body() -> None:
    text = "---\ntitle: T\n---"
    meta = frontmatter.parse(text)
    assert meta is not None
    assert meta.body_offset == len(text)


def test_unclosed() -> None:
    assert refused("---\ntitle: T\nmodified: 2026-01-01\n") == (
        1,
        "frontmatter opened with '---' is never closed",
    )
    assert refused("---") == (1, "frontmatter opened with '---' is never closed")


def test_invalid_yaml_points_at_the_line() -> None:
    assert refused("---\ntitle: T\nmodified: [2026\n---\n") == (
        4,
        "invalid YAML in frontmatter: did not find expected ',' or ']'",
    )


def test_a_list_is_not_a_mapping() -> None:
    assert refused("---\n- title\n- modified\n---\n") == (
        2,
        "frontmatter must be a mapping of keys to values, found a list",
    )


def test_a_single_value_is_not_a_mapping() -> None:
    assert refused("---\n\njust words\n---\n") == (
        3,
        "frontmatter must be a mapping of keys to values, found a single value",
    )


def test_tabs() -> None:
    assert refused("---\ntitle: T\n\tmodified: 2026-01-01\n---\n") == (
        3,
        "invalid YAML in frontmatter: found a tab character that violates indentation",
    )
    assert refused("---\ntitle: T\nrequires:\n\t- first\n---\n") == (
        4,
        "invalid YAML in frontmatter: found character that cannot start any token",
    )


def test_a_tab_after_the_colon_is_fine() -> None:
    meta = frontmatter.parse("---\ntitle:\tT\n---\n")
    assert meta is not None
    assert meta.values == {"title": "T"}


def test_python_object_tags_are_never_constructed() -> None:
    line, message = refused('---\ntitle: !!python/object/apply:os.system ["echo hi"]\n---\n')
    assert line == 2
    assert message == (
        "invalid YAML in frontmatter: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    )


def test_aliases_are_refused() -> None:
    # reported where the shared value is anchored
    assert refused("---\nbase: &b [x]\ntags: *b\n---\n") == (
        2,
        "YAML anchors and aliases are not allowed in card frontmatter",
    )


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 10):
        previous, name = chr(ord("a") + index - 1), chr(ord("a") + index)
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    text = "---\n" + "\n".join(levels) + "\n---\n"
    start = time.perf_counter()
    line, message = refused(text)
    assert time.perf_counter() - start < 1
    assert message == "YAML anchors and aliases are not allowed in card frontmatter"
    assert line == 2


def test_deep_nesting_is_refused_before_libyaml_overflows_the_stack() -> None:
    depth = 100_000
    assert refused("---\ntitle: " + "[" * depth + "]" * depth + "\n---\n") == (
        2,
        f"frontmatter nests deeper than {frontmatter.MAX_DEPTH} levels",
    )


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = frontmatter.MAX_DEPTH
    meta = frontmatter.parse("---\nx: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n---\n")
    assert meta is not None


def test_a_value_yaml_cannot_build_is_an_error_at_its_line() -> None:
    assert refused("---\ntitle: T\ncount: !!int many\n---\n") == (
        3,
        "invalid YAML in frontmatter: cannot read 'many' as tag:yaml.org,2002:int: "
        "invalid literal for int() with base 10: 'many'",
    )


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "2026-01-01 25:00:00"])
def test_an_impossible_date_stays_a_string_for_the_schema(value: str) -> None:
    meta = frontmatter.parse(f"---\nmodified: {value}\n---\n")
    assert meta is not None
    assert meta.values == {"modified": value}


def test_dates_and_timestamps() -> None:
    meta = frontmatter.parse("---\nd: 2026-01-31\nt: 2026-01-31 10:00:00\n---\n")
    assert meta is not None
    assert meta.values == {"d": dt.date(2026, 1, 31), "t": dt.datetime(2026, 1, 31, 10, 0)}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("-:[]{}&*!|>'\"#\t\n ab1.\\%@`,?")), max_size=80))
def test_any_text_is_read_or_refused_with_a_line(body: str) -> None:
    """Whatever the YAML, the reader answers with values or a FrontmatterError, never a crash."""
    try:
        meta = frontmatter.parse("---\n" + body + "\n---\n")
    except FrontmatterError as exc:
        assert exc.line >= 1
        assert exc.message
    else:
        assert meta is not None
        assert isinstance(meta.values, dict)


def test_a_duplicate_key_is_an_error_at_its_second_line() -> None:
    with pytest.raises(FrontmatterError) as caught:
        frontmatter.parse("---\ntitle: A\nstatus: active\nstatus: done\n---\n")
    assert (caught.value.line, caught.value.message) == (4, "duplicate key 'status' (first at line 3)")


_SCALARS = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab -:#'\"[]{}1.")), max_size=12),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)).map(str),
    st.sampled_from(["2026-02-30", "2026-1-5", "2026-01-31 10:00:00", "12", "1.5", "true", "null", "~", ""]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(["a", "b", "1", "<<"]), inner, max_size=2).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs.items()) + "}"
        ),
    ),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["title", "tags", "modified", "7", "true", "<<"]), _VALUES, max_size=4)
)
def test_the_quick_construction_matches_pyyaml(pairs: dict[str, str]) -> None:
    """Values built by cardbook's fast path are exactly those PyYAML's constructor builds."""
    yaml_text = "".join(f"{key}: {value}\n" for key, value in pairs.items())
    try:
        meta = frontmatter.parse("---\n" + yaml_text + "---\n")
    except FrontmatterError:
        return  # not YAML, or a value PyYAML cannot build either: refused the same way
    loader = frontmatter._Loader(yaml_text)
    try:
        expected = loader.get_single_data() or {}
    finally:
        loader.dispose()
    assert meta is not None
    assert meta.values == expected
    assert [type(value) for value in meta.values.values()] == [type(value) for value in expected.values()]
