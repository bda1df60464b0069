"""The local stack's API Gateway mapping templates: $input, $util and $context as AWS renders them, and
strict, so that a typo in a template fails here rather than on AWS."""

import json
import time
from datetime import datetime

import pytest

from local_stack.apigateway.mapping_templates import GatewayRequest, Rendered, TemplateError, render

BODY = json.dumps({"a": {"b": [1, "x"]}, "note": "it's"})


def request(body: str = BODY, claims: dict[str, str] | None = None) -> GatewayRequest:
    return GatewayRequest(
        method="POST",
        resource_path="/quotes/{quote_id}",
        path="/quotes/q-1",
        headers={"Content-Type": "application/json", "X-Trace": "t-1"},
        query={"page": "2"},
        path_parameters={"quote_id": "q-1"},
        body=body,
        claims={"sub": "user-1", "cognito:groups": "staff"} if claims is None else claims,
        stage="dev",
        request_id="req-1",
        stage_variables={"table": "orders-dev"},
    )


def body_of(template: str, req: GatewayRequest | None = None, **kwargs: str) -> str:
    return render(template, req or request(), **kwargs).body


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("'", "\\'"),
        ('"', '\\"'),
        ("\\", "\\\\"),
        ("/", "\\/"),
        ("\n", "\\n"),
        ("\t", "\\t"),
        ("\r\b\f", "\\r\\b\\f"),
        ("\x01", "\\u0001"),
        ("\x1f", "\\u001F"),
        ("\x7f", "\x7f"),
        ("é", "\\u00E9"),
        ("Ā", "\\u0100"),
        ("€", "\\u20AC"),
        ("😀", "\\uD83D\\uDE00"),
        ("Plain ASCII: 1 + 2 = 3 ~!", "Plain ASCII: 1 + 2 = 3 ~!"),
    ],
)
def test_escape_javascript_is_commons_lang_2s(text: str, escaped: str) -> None:
    assert body_of("$util.escapeJavaScript($input.body)", req=request(body=text)) == escaped


IDIOM = """$util.escapeJavaScript($input.body).replaceAll("\\\\'","'")"""
AWKWARD = 'Tom\'s "café" costs €5 / 😀\n\t\\ done'


def test_the_aws_idiom_makes_json_string_content() -> None:
    rendered = body_of(IDIOM, req=request(body=AWKWARD))

    assert "\\'" not in rendered
    assert json.loads(f'"{rendered}"') == AWKWARD


def test_double_escaping_round_trips_through_two_json_loads() -> None:
    template = f"#set($once = {IDIOM}){IDIOM.replace('$input.body', '$once')}"

    rendered = body_of(template, req=request(body=AWKWARD))

    assert json.loads('"' + json.loads(f'"{rendered}"') + '"') == AWKWARD


def test_input_path_and_json() -> None:
    assert body_of("$input.path('$.a.b[1]')|$input.path('$.a').b.size()|$input.path('$').note") == "x|2|it's"
    assert body_of("$input.path('$.a')|$input.path(\"$['a']['b']\")") == "{b=[1, x]}|[1, x]"
    assert body_of("$input.json('$.a')|$input.json('$.a.b[0]')|$input.json('$.note')") == '{"b":[1,"x"]}|1|"it\'s"'
    assert body_of("[$input.path('$.missing')]#if($input.path('$.missing'))true#end") == "[]"
    assert body_of("#foreach($item in $input.path('$.missing'))$item#end.") == "."  # null iterates as empty


CART = json.dumps({"items": [{"sku": "p-1"}, {"sku": "p-2"}], "gift": True, "note": None, "flags": [False, None]})


def test_input_path_renders_objects_as_javas_to_string() -> None:
    # A Java Map/List's toString(): booleans in lower case, JSON null as "null", entries in order.
    rendered = "{items=[{sku=p-1}, {sku=p-2}], gift=true, note=null, flags=[false, null]}"

    assert body_of("$input.path('$')", req=request(body=CART)) == rendered


def test_list_indexes_from_zero_and_an_index_past_the_end_is_null() -> None:
    first_and_second = "$input.path('$.items[0]').sku $input.path('$.items[1]').sku"
    same_through_the_list = "$input.path('$.items').get(0).sku $input.path('$.items')[1].sku"
    past_the_end = "[$input.path('$.items[2]')][$input.path('$.items').get(2)][$input.path('$.items')[2]]"

    assert body_of(first_and_second, req=request(body=CART)) == "p-1 p-2"
    assert body_of(same_through_the_list, req=request(body=CART)) == "p-1 p-2"
    assert body_of(past_the_end, req=request(body=CART)) == "[][][]"
    assert body_of("[$input.path('$.note.text')][$input.path('$.gift.on')]", req=request(body=CART)) == "[][]"


def test_half_a_surrogate_pair_from_a_json_escape_is_escaped_as_its_code_unit() -> None:
    # Valid JSON and a valid Java string, though not valid UTF-8.
    assert body_of("$util.escapeJavaScript($input.path('$.s'))", req=request(body='{"s": "\\ud83d"}')) == "\\uD83D"


def test_a_macro_defined_in_the_template_can_be_called() -> None:
    assert body_of("#macro(greet $who)hi $who#end#greet('ann')") == "hi ann"


def test_input_params() -> None:
    template = "$input.params('quote_id') $input.params('page') $input.params('X-Trace') [$input.params('nope')]"

    assert body_of(template) == "q-1 2 t-1 []"
    assert body_of("$input.params().querystring.page $input.params().path.get('quote_id')") == "2 q-1"
    assert body_of("#foreach($name in $input.params().header.keySet())$name;#end") == "Content-Type;X-Trace;"


def test_claims_with_a_colon_and_an_absent_claim() -> None:
    template = (
        "$context.authorizer.claims['cognito:groups'] $context.authorizer.claims.sub [$context.authorizer.claims.email]"
    )

    assert body_of(template) == "staff user-1 []"
    staff = "#if($context.authorizer.claims['cognito:groups'].contains('staff'))staff#{else}customer#end"
    assert body_of(staff) == "staff"
    assert body_of(staff, req=request(claims={"sub": "user-2"})) == "customer"


def test_context() -> None:
    template = (
        "$context.requestId $context.httpMethod $context.resourcePath $context.stage $context.identity.sourceIp "
        "$stageVariables.table $context.stageVariables.table"
    )

    assert body_of(template) == "req-1 POST /quotes/{quote_id} dev 127.0.0.1 orders-dev orders-dev"
    before = int(time.time() * 1000)
    epoch, request_time = body_of("$context.requestTimeEpoch|$context.requestTime").split("|")
    assert before <= int(epoch) <= time.time() * 1000  # milliseconds since the epoch
    assert datetime.strptime(request_time, "%d/%b/%Y:%H:%M:%S %z").timestamp() == int(epoch) // 1000
    assert request_time.endswith(" +0000")


def test_response_override_is_read_back() -> None:
    template = '#set($context.responseOverride.status = 400)#set($context.responseOverride.header.Foo = "x")done'

    assert render(template, request()) == Rendered(body="done", status=400, headers={"Foo": "x"})
    assert render("done", request()) == Rendered(body="done", status=None, headers={})


def test_response_template_parses_the_integration_output() -> None:
    output = json.dumps({"statusCode": 201, "body": "created"})
    integration = json.dumps({"status": "SUCCEEDED", "output": output})
    template = "#set($x = $util.parseJson($input.path('$.output')))$x.statusCode $x.body $input.json('$.status')"

    assert body_of(template, integration_body=integration) == '201 created "SUCCEEDED"'


def test_gateway_response_quotes_the_message() -> None:
    template = '{"message": $context.error.messageString}'

    assert body_of(template, error_message="Unsupported Media Type") == '{"message": "Unsupported Media Type"}'
    assert body_of("$context.error.message", error_message='Bad "input"') == 'Bad "input"'
    assert body_of("$context.error.messageString", error_message='Bad "input"') == '"Bad \\"input\\""'


@pytest.mark.parametrize(
    ("body", "template", "rendered"),
    [
        ("ann@shop", "$input.body.replaceAll('(\\w+)@(\\w+)', '$2 at $1\\$')", "shop at ann$"),
        ("a.b.c", "$input.body.replace('.', '+') $input.body.replaceAll('.', '-')", "a+b+c -----"),
        ("ann@shop", "$input.body.split('@').size() $input.body.split('@').get(1)", "2 shop"),
        ("", "$input.body.split(',').size()", "1"),  # nothing matched: Java keeps the one (empty) piece
        ("ab", "$input.body.replaceAll('(x)?b', '[$1]')", "a[]"),  # a group that took no part is empty
        (" , a,,\n", "$input.body.trim().split(',').size() $input.body.trim().split(',').get(1)", "2  a"),
        (",", "$input.body.split(',').size() $input.body.split(';').size()", "0 1"),
        ("ann@shop", "$input.body.length() $input.body.isEmpty() $input.body.equals('ann@shop')", "8 false true"),
        ("Ann@shop", "$input.body.toLowerCase().startsWith('ann') $input.body.contains('@')", "true true"),
        ("é😀", "$input.body.length()", "3"),
        ("", "$util.urlEncode('a b~*é/') $util.urlDecode('a+b%2F')", "a+b%7E*%C3%A9%2F a b/"),
        ("", "$util.base64Encode('hé') $util.base64Decode('aMOp')", "aMOp hé"),
        # Arguments that are themselves Java strings (of the request): a regular expression and a split.
        ("xPOSTyPOST", "$input.body.replaceAll($context.httpMethod, $context.stage)", "xdevydev"),
        ("a/q-1/b", "$input.body.split($input.params('quote_id')).get(1)", "/b"),
    ],
)
def test_java_string_methods_and_util(body: str, template: str, rendered: str) -> None:
    assert body_of(template, req=request(body=body)) == rendered


@pytest.mark.parametrize(
    ("template", "culprit"),
    [
        ("$context.nope", "unknown reference $context.nope"),
        ("$nope", "unknown reference $nope"),
        ("$input.nope('x')", "unknown reference $input.nope"),
        ("$input.body.upper()", "unknown method String.upper()"),
        ("$input.path('$.a.b').append(3)", "unknown method List.append()"),
        ("$input.path('$.a').items()", "unknown method items()"),
        ("$input.path('$.missing').items()", "unknown method items()"),
        ("#set($context.responseOverride.stauts = 400)", "cannot set $context.responseOverride.stauts"),
        ("#set($context.requestId = 'x')", "cannot set $context.requestId"),
        ("$input.json('$..b')", "unsupported JSONPath $..b"),
        ("$input.json('a.b')", "unsupported JSONPath a.b"),
        ("#if($input.body)never closed", "#end"),
    ],
)
def test_unknown_references_and_methods_fail_loudly(template: str, culprit: str) -> None:
    with pytest.raises(TemplateError) as error:
        render(template, request())

    assert culprit in str(error.value)  # airspeed's text quotes the expression; the culprit is what is wrong with it


def test_text_beyond_ascii_is_written_as_it_is_by_input_json_and_the_error_message_string():
    assert body_of("$input.json('$.name')", request(body='{"name": "café €"}')) == '"café €"'
    gateway_response = render("$context.error.messageString", request(), error_message="déjà vu: 1 €")
    assert gateway_response.body == '"déjà vu: 1 €"'
    assert body_of("[$context.error.messageString]") == "[]"  # no error: null, which renders empty


def test_an_empty_body_is_the_empty_object_and_a_body_that_is_not_json_fails_saying_so():
    assert body_of("$input.json('$')", request(body="")) == "{}"
    with pytest.raises(TemplateError, match=r"\nTemplateError: \$input is not JSON: Expecting value: line 1 column 1"):
        body_of("$input.json('$')", request(body="not json"))


@pytest.mark.parametrize("part", ["identity", "authorizer", "error"])
def test_an_unknown_member_of_a_part_of_the_context_is_named_in_full(part):
    with pytest.raises(TemplateError, match=rf"\nTemplateError: unknown reference \$context\.{part}\.nope$"):
        body_of(f"$context.{part}.nope")
