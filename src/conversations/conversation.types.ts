export enum ConversationKind {
  SensitiveConversation = 'sensitive_conversation',
  ConfidentialDiscussion = 'confidential_discussion',
  FacilitatedMeeting = 'facilitated_meeting',
  Call = 'call',
}
