"""The official OpenAI Python client, unchanged, against a running Atomic gateway.

Run by test/gateway/openai-python-client.test.ts with the venv that scripts/install-pyclient.mjs makes. It asserts
nothing itself: it prints one JSON line of what each call sent and got back (or the exception it raised), and the
TypeScript test asserts on that, so one broken call fails one test and the rest still report.

Environment: ATOMIC_BASE_URL (the gateway's .../v1), ATOMIC_API_KEY, ATOMIC_BAD_API_KEY (well-formed, not issued),
ATOMIC_MODEL.
"""

import json
import math
import os
import traceback

import openai
from openai import OpenAI
from pydantic import BaseModel, Field

BASE_URL = os.environ["ATOMIC_BASE_URL"]
MODEL = os.environ["ATOMIC_MODEL"]
client = OpenAI(base_url=BASE_URL, api_key=os.environ["ATOMIC_API_KEY"], max_retries=0, timeout=120)

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer", "minimum": 0, "maximum": 150}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string", "minLength": 1, "maxLength": 12}},
    "required": ["city"],
    "additionalProperties": False,
}


# parse() turns this into a strict json_schema response format, and the answer back into an instance.
class City(BaseModel):
    name: str = Field(max_length=12)
    population: int = Field(ge=0, le=100000)


# The same request whole and streamed: at temperature 0 with one seed both must say the same.
GREETING = {"model": MODEL, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 8, "temperature": 0, "seed": 7}


def models():
    return {"ids": [model.id for model in client.models.list()]}


def chat():
    completion = client.chat.completions.create(**GREETING)
    choice = completion.choices[0]
    return {
        "object": completion.object,
        "role": choice.message.role,
        "content": choice.message.content,
        "finish_reason": choice.finish_reason,
        "usage": completion.usage.model_dump() if completion.usage else None,
    }


def stream():
    text, objects, finish, usage, chunks = "", set(), None, None, 0
    for chunk in client.chat.completions.create(**GREETING, stream=True, stream_options={"include_usage": True}):
        chunks += 1
        objects.add(chunk.object)
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage.model_dump()
    return {"text": text, "chunks": chunks, "objects": sorted(objects), "finish_reason": finish, "usage": usage}


def json_schema():
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "A person"}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}},
        temperature=0,
        seed=5,
    )
    return {"schema": PERSON, "content": completion.choices[0].message.content}


def parse():
    completion = client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "A city"}], response_format=City, temperature=0, seed=6
    )
    message = completion.choices[0].message
    return {
        "schema": City.model_json_schema(),
        "content": message.content,
        "parsed_type": type(message.parsed).__name__,
        "parsed": message.parsed.model_dump() if message.parsed else None,
    }


def tool_call():
    tool = {
        "type": "function",
        "function": {"name": "get_weather", "description": "The current weather in a city", "parameters": WEATHER, "strict": True},
    }
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        temperature=0,
        seed=3,
        max_tokens=100,
    )
    choice = completion.choices[0]
    calls = [{"id": c.id, "type": c.type, "name": c.function.name, "arguments": c.function.arguments} for c in choice.message.tool_calls or []]
    return {"parameters": WEATHER, "finish_reason": choice.finish_reason, "content": choice.message.content, "tool_calls": calls}


def completion():
    result = client.completions.create(model=MODEL, prompt="Once upon", max_tokens=5, temperature=0, seed=4)
    return {"object": result.object, "text": result.choices[0].text, "usage": result.usage.model_dump() if result.usage else None}


def embeddings():
    # The client asks for base64 unless told otherwise and decodes it itself.
    result = client.embeddings.create(model=MODEL, input=["one", "two"])
    vectors = [item.embedding for item in result.data]
    return {
        "count": len(vectors),
        "dimensions": [len(v) for v in vectors],
        "finite": all(isinstance(x, float) and math.isfinite(x) for v in vectors for x in v),
        "vectors": vectors,
    }


def raised(call):
    """The typed error a call raised, as the client built it from the gateway's answer."""
    try:
        call()
    except openai.APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else None
        return {"class": type(error).__name__, "status": error.status_code, "code": error.code, "body": body}
    return {"class": None}


def unknown_model():
    return raised(lambda: client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}]))


def bad_key():
    stranger = OpenAI(base_url=BASE_URL, api_key=os.environ["ATOMIC_BAD_API_KEY"], max_retries=0, timeout=120)
    return raised(lambda: stranger.models.list())


CHECKS = [models, chat, stream, json_schema, parse, tool_call, completion, embeddings, unknown_model, bad_key]

results = {"openai_version": openai.__version__}
for check in CHECKS:
    try:
        results[check.__name__] = check()
    except Exception as error:  # reported, not raised: the TypeScript test shows which call failed and how
        results[check.__name__] = {"exception": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
print(json.dumps(results))
