"""Where the bytes live: objects in S3 and a local twin, the bucket's own configuration, media
checks, the boto3 client factory and the embedded SeaweedFS server."""
