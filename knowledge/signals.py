"""Domain events of the knowledge app; `knowledge.notifications` turns them into SNS messages after commit."""

from django.dispatch import Signal

# sender=KnowledgeDocument, document=<KnowledgeDocument>
document_indexed = Signal()
