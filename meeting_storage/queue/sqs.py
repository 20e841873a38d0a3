"""QUEUE_BACKEND=sqs: an Amazon SQS queue (QUEUE_URL) with a redrive policy to a dead-letter
queue, shared by any number of workers on any number of machines. The endpoint follows
AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL (an SQS-compatible server), else AWS.

Besides the jobs this package sends, a worker accepts S3 event notifications (ObjectCreated
under meetings/) when the bucket is set to send them to the queue (`queue notify`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.config import Config

from meeting_storage.core.errors import BackendUnavailableError, ConfigurationError
from meeting_storage.core.settings import Settings
from meeting_storage.queue import Delivery, QueueCounts
from meeting_storage.storage.aws import AWS_ERRORS, make_session

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS limits: at most 12 hours of visibility, 15 minutes of delay, 20 seconds of long polling.
MAX_VISIBILITY = 12 * 3600
MAX_DELAY = 900
MAX_WAIT = 20
DEAD_LETTER_RETENTION = 14 * 24 * 3600


def make_sqs_client(settings: Settings) -> SQSClient:
    """An SQS client for AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL, else AWS."""
    try:
        client: SQSClient = make_session(settings).client(
            "sqs",
            endpoint_url=settings.sqs_endpoint_url,
            config=Config(
                retries={"mode": "standard", "max_attempts": 4},
                connect_timeout=5,
                read_timeout=MAX_WAIT + 10,
            ),
        )
    except AWS_ERRORS as exc:
        raise ConfigurationError(f"Cannot set up the SQS client: {exc}") from exc
    return client


def _unavailable(action: str, url: str, exc: BaseException) -> BackendUnavailableError:
    return BackendUnavailableError(
        f"SQS refused to {action} {url}: {exc}. Check QUEUE_URL, the credentials' sqs:* "
        "permissions and AWS_ENDPOINT_URL_SQS; `queue create` makes the queue."
    )


class SqsQueue:
    """A JobQueue on Amazon SQS."""

    def __init__(self, client: SQSClient, url: str, *, max_receives: int = 3) -> None:
        self._client = client
        self.url = url
        self.max_receives = max_receives
        self._dead_letter_url: str | None = None

    def describe(self) -> str:
        return f"SQS queue {self.url}"

    def arn(self) -> str:
        try:
            return self._client.get_queue_attributes(
                QueueUrl=self.url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        except AWS_ERRORS as exc:
            raise _unavailable("read the attributes of", self.url, exc) from exc

    def allow_bucket(self, bucket: str) -> None:
        """Let the bucket's event notifications send to this queue (its access policy)."""
        arn = self.arn()
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:*:*:{bucket}"}},
                }
            ],
        }
        try:
            self._client.set_queue_attributes(
                QueueUrl=self.url, Attributes={"Policy": json.dumps(policy)}
            )
        except AWS_ERRORS as exc:
            raise _unavailable("set the access policy of", self.url, exc) from exc

    def send(self, body: dict[str, Any], delay_seconds: int = 0) -> None:
        try:
            self._client.send_message(
                QueueUrl=self.url,
                MessageBody=json.dumps(body, separators=(",", ":")),
                DelaySeconds=max(0, min(MAX_DELAY, delay_seconds)),
            )
        except AWS_ERRORS as exc:
            raise _unavailable("send a message to", self.url, exc) from exc

    def receive(self, visibility_timeout: int, wait_seconds: float = 0) -> Delivery | None:
        try:
            answer = self._client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=1,
                VisibilityTimeout=min(MAX_VISIBILITY, visibility_timeout),
                WaitTimeSeconds=max(0, min(MAX_WAIT, int(wait_seconds))),
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except AWS_ERRORS as exc:
            raise _unavailable("receive from", self.url, exc) from exc
        for message in answer.get("Messages", []):
            try:
                body = json.loads(message.get("Body", ""))
            except ValueError:
                body = {"unreadable": message.get("Body", "")[:200]}
            count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            return Delivery(
                body=body if isinstance(body, dict) else {"unreadable": str(body)[:200]},
                receive_count=count,
                handle=message["ReceiptHandle"],
                message_id=message.get("MessageId", ""),
            )
        return None

    def _visibility(self, delivery: Delivery, seconds: int) -> bool:
        try:
            self._client.change_message_visibility(
                QueueUrl=self.url,
                ReceiptHandle=delivery.handle,
                VisibilityTimeout=max(0, min(MAX_VISIBILITY, seconds)),
            )
        except AWS_ERRORS:
            return False  # the receipt handle expired: the message is someone else's now
        return True

    def extend(self, delivery: Delivery, visibility_timeout: int) -> bool:
        return self._visibility(delivery, visibility_timeout)

    def release(self, delivery: Delivery, delay_seconds: int = 0) -> None:
        self._visibility(delivery, delay_seconds)

    def ack(self, delivery: Delivery) -> None:
        try:
            self._client.delete_message(QueueUrl=self.url, ReceiptHandle=delivery.handle)
        except AWS_ERRORS as exc:
            raise _unavailable("delete a message from", self.url, exc) from exc

    def dead_letter_url(self) -> str | None:
        """The dead-letter queue named by the queue's redrive policy."""
        if self._dead_letter_url is None:
            try:
                attributes = self._client.get_queue_attributes(
                    QueueUrl=self.url, AttributeNames=["RedrivePolicy"]
                ).get("Attributes", {})
            except AWS_ERRORS as exc:
                raise _unavailable("read the attributes of", self.url, exc) from exc
            policy = attributes.get("RedrivePolicy")
            if policy is None:
                return None
            arn = json.loads(policy)["deadLetterTargetArn"]
            name = arn.rsplit(":", 1)[-1]
            try:
                self._dead_letter_url = self._client.get_queue_url(QueueName=name)["QueueUrl"]
            except AWS_ERRORS as exc:
                raise _unavailable("find the dead-letter queue of", self.url, exc) from exc
        return self._dead_letter_url

    def dead_letter(self, delivery: Delivery) -> None:
        url = self.dead_letter_url()
        if url is None:
            # Without a redrive policy the failed job is dropped; the meeting says why.
            self.ack(delivery)
            return
        try:
            self._client.send_message(QueueUrl=url, MessageBody=json.dumps(delivery.body))
        except AWS_ERRORS as exc:
            raise _unavailable("send a message to", url, exc) from exc
        self.ack(delivery)

    def counts(self) -> QueueCounts:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        try:
            main = self._client.get_queue_attributes(
                QueueUrl=self.url,
                AttributeNames=names,  # type: ignore[arg-type]
            )["Attributes"]
            dead_url = self.dead_letter_url()
            dead = (
                self._client.get_queue_attributes(
                    QueueUrl=dead_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                if dead_url
                else {}
            )
        except AWS_ERRORS as exc:
            raise _unavailable("read the attributes of", self.url, exc) from exc
        return QueueCounts(
            waiting=int(main.get("ApproximateNumberOfMessages", 0))
            + int(main.get("ApproximateNumberOfMessagesDelayed", 0)),
            in_flight=int(main.get("ApproximateNumberOfMessagesNotVisible", 0)),
            dead=int(dead.get("ApproximateNumberOfMessages", 0)),
            notes=() if dead_url else ("The queue has no redrive policy (no dead-letter queue).",),
        )

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """A look at the dead-letter queue: messages are received with no visibility timeout,
        so they stay there."""
        url = self.dead_letter_url()
        if url is None:
            return []
        bodies: list[dict[str, Any]] = []
        try:
            answer = self._client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
            )
        except AWS_ERRORS as exc:
            raise _unavailable("receive from", url, exc) from exc
        for message in answer.get("Messages", [])[:limit]:
            try:
                bodies.append(json.loads(message.get("Body", "")))
            except ValueError:
                continue
        return bodies


def create_queue_pair(
    client: SQSClient, name: str, *, max_receives: int, visibility: int
) -> dict[str, str]:
    """Create (or find) the queue `name` and its dead-letter queue `name-dlq`, with a redrive
    policy after `max_receives` receives; return both URLs and ARNs."""
    try:
        dead_url = client.create_queue(
            QueueName=f"{name}-dlq",
            Attributes={"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION)},
        )["QueueUrl"]
        dead_arn = client.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(max_receives)}
        url = client.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(visibility),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    except AWS_ERRORS as exc:
        raise _unavailable("create", name, exc) from exc
    return {
        "queue_url": url,
        "queue_arn": arn,
        "dead_letter_url": dead_url,
        "dead_letter_arn": dead_arn,
    }


def cloudformation_template(
    name: str = "meeting-jobs", max_receives: int = 3, visibility: int = 300
) -> dict[str, Any]:
    """The same queue pair as `queue create`, as a CloudFormation template."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "meeting-storage job queue and its dead-letter queue",
        "Resources": {
            "JobDeadLetterQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": f"{name}-dlq",
                    "MessageRetentionPeriod": DEAD_LETTER_RETENTION,
                },
            },
            "JobQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": name,
                    "VisibilityTimeout": visibility,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["JobDeadLetterQueue", "Arn"]},
                        "maxReceiveCount": max_receives,
                    },
                },
            },
        },
        "Outputs": {"QueueUrl": {"Value": {"Ref": "JobQueue"}}},
    }
