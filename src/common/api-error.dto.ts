import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode } from './error-code';

export class FieldErrorDto {
  @ApiProperty({ example: 'email', description: 'Path of the offending field in the request body or query' })
  field: string;

  @ApiProperty({ example: ['email must be an email'], type: [String] })
  messages: string[];
}

/** The one error shape of the API, for every 4xx and 5xx. */
export class ApiErrorDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.ValidationFailed })
  error: ErrorCode;

  @ApiProperty({ example: 'The request is not valid' })
  message: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  fieldErrors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'Extra machine-readable detail, e.g. the missing precondition' })
  details?: Record<string, unknown>;

  @ApiProperty({ example: '5f0c6a43-3c8e-4bd1-9d4e-6f7f4f1fd2a1', description: 'Also in the X-Request-Id header and the logs' })
  requestId: string;
}
