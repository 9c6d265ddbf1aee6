"""Parse messages with the trained model, in the Rasa environment (Python 3.10).

Reads one JSON string per line on stdin, writes one JSON object per line on stdout:
{"text", "intent", "confidence", "ranking": [[intent, confidence], ...]}. The intent is what
the whole NLU pipeline decides, FallbackClassifier included, so a message the bot would not
understand comes out as "nlu_fallback". Used by the held-out NLU test and the
conversation-quality benchmark; imports nothing of the app's.

    .venv-rasa/bin/python bot/parse_messages.py bot/models/rebook.tar.gz < texts.jsonl
"""

import asyncio
import json
import logging
import sys


async def main(model_path: str) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    for line in sys.stdin:
        if not line.strip():
            continue
        text = json.loads(line)
        parsed = await agent.parse_message(text)
        ranking = [[r["name"], round(float(r["confidence"]), 4)]
                   for r in parsed.get("intent_ranking", [])[:5]]
        intent = parsed.get("intent") or {}
        print(json.dumps({"text": text, "intent": intent.get("name"),
                          "confidence": round(float(intent.get("confidence") or 0), 4),
                          "ranking": ranking}), flush=True)


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    asyncio.run(main(sys.argv[1]))
